#include "sim/schemes/scaled/options.hpp"

#include <charconv>
#include <stdexcept>

namespace lpsim::schemes::scaled {

std::string read_choice(OptionReader& options, const std::string& scheme, const std::string& key,
                        std::initializer_list<const char*> choices) {
  const std::string value = options.text(key, *choices.begin());
  std::string listed;
  for (const char* choice : choices) {
    if (value == choice) return value;
    listed += (listed.empty() ? "" : " or ") + std::string(choice);
  }
  throw std::invalid_argument(scheme + " option " + key + ": \"" + value + "\" (expected " +
                              listed + ")");
}

LayerSelection read_layer_selection(OptionReader& options, const std::string& scheme,
                                    const std::string& quantized_name) {
  LayerSelection s{.quantized_name = quantized_name};
  const char* name = s.quantized_name.c_str();
  s.first = read_choice(options, scheme, "first_layer", {name, "fp32"}) == quantized_name;
  s.last = read_choice(options, scheme, "last_layer", {name, "fp32"}) == quantized_name;
  return s;
}

void LayerSelection::add_options(ConfigEntries& entries) const {
  entries.emplace_back("first_layer", first ? quantized_name : "fp32");
  entries.emplace_back("last_layer", last ? quantized_name : "fp32");
}

Rounding read_rounding(OptionReader& options, const std::string& scheme) {
  const std::string name = options.text("rounding", "nearest-even");
  Rounding mode;
  if (!parse_rounding(name, mode) || mode == Rounding::niti_psr)
    throw std::invalid_argument(scheme + " option rounding: \"" + name +
                                "\" is not a rounding mode for it");
  return mode;
}

int read_int(OptionReader& options, const std::string& scheme, const std::string& key, int fallback,
             int min, int max) {
  const std::string text = options.text(key, std::to_string(fallback));
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw std::invalid_argument(scheme + " option " + key + ": \"" + text +
                                "\" is not an integer " + std::to_string(min) + ".." +
                                std::to_string(max));
  return value;
}

}  // namespace lpsim::schemes::scaled
