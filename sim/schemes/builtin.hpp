// The schemes make_scheme knows; each reads its options from the reader.
#pragma once
#include <cstdint>
#include <memory>

#include "sim/schemes/scheme.hpp"

namespace lpsim::schemes {

// The option `engine`: onednn (default) or openblas, the fp32 GEMM engine of conv and linear
// layers.
std::shared_ptr<const nn::GemmEngine> fp32_engine_option(OptionReader& options);

std::unique_ptr<Scheme> make_fp32(OptionReader& options);
std::unique_ptr<Scheme> make_fp16_mixed(OptionReader& options, std::uint64_t seed);
std::unique_ptr<Scheme> make_dfp16(OptionReader& options, std::uint64_t seed);
std::unique_ptr<Scheme> make_wageubn_8(OptionReader& options, std::uint64_t seed);
std::unique_ptr<Scheme> make_fp8_delayed(OptionReader& options, std::uint64_t seed);
std::unique_ptr<Scheme> make_mx(OptionReader& options, std::uint64_t seed);
std::unique_ptr<Scheme> make_niti_int8(OptionReader& options, std::uint64_t seed);

}  // namespace lpsim::schemes
