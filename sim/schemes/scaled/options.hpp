// Options shared by the scaled 8-bit schemes (fp8-delayed, mx): which GEMM layers are quantized
// (the first and last are often kept in higher precision), the element rounding, integer options.
#pragma once
#include <initializer_list>
#include <string>

#include "formats/rounding.hpp"
#include "sim/schemes/scheme.hpp"

namespace lpsim::schemes::scaled {

// The options first_layer and last_layer: `quantized` (the scheme's own name for its format,
// "fp8" or "mx", the default) or fp32.
struct LayerSelection {
  std::string quantized_name;
  bool first = true, last = true;  // whether the first / last GEMM layer is quantized

  bool quantizes(const LayerPosition& position) const {
    if (position.gemm_index < 0) return false;
    return (first || !position.first_gemm()) && (last || !position.last_gemm());
  }
  void add_options(ConfigEntries& entries) const;
};
LayerSelection read_layer_selection(OptionReader& options, const std::string& scheme,
                                    const std::string& quantized_name);

// The option `rounding` of the element conversions: any mode but niti-psr (default nearest-even).
Rounding read_rounding(OptionReader& options, const std::string& scheme);

// An integer option in [min, max], or `fallback` when absent.
int read_int(OptionReader& options, const std::string& scheme, const std::string& key, int fallback,
             int min, int max);

// One of `choices` (the first is the default); throws naming them otherwise.
std::string read_choice(OptionReader& options, const std::string& scheme, const std::string& key,
                        std::initializer_list<const char*> choices);

}  // namespace lpsim::schemes::scaled
