#include "sim/schemes/scheme.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <stdexcept>

#include "sim/schemes/builtin.hpp"

namespace lpsim::schemes {

namespace {

struct Builtin {
  std::string_view name;
  std::unique_ptr<Scheme> (*make)(OptionReader&, std::uint64_t seed);
};
constexpr Builtin kBuiltins[] = {
    {"fp32", [](OptionReader& o, std::uint64_t) { return make_fp32(o); }},
    {"fp16-mixed", make_fp16_mixed},
    {"dfp16", make_dfp16},
    {"fp8-delayed", make_fp8_delayed},
    {"mx", make_mx},
    {"wageubn-8", make_wageubn_8},
    {"niti-int8", make_niti_int8},
};

constexpr auto kNames = [] {
  std::array<std::string_view, std::size(kBuiltins)> names;
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = kBuiltins[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> scheme_names() { return kNames; }

std::unique_ptr<Scheme> make_scheme(std::string_view name, const SchemeOptions& options,
                                    std::uint64_t seed) {
  const auto builtin = std::find_if(std::begin(kBuiltins), std::end(kBuiltins),
                                    [&](const Builtin& b) { return b.name == name; });
  if (builtin == std::end(kBuiltins)) {
    std::string expected;
    for (std::size_t i = 0; i < kNames.size(); ++i)
      expected += std::string(i == 0 ? "" : i + 1 == kNames.size() ? " or " : ", ") +
                  std::string(kNames[i]);
    throw std::invalid_argument("unknown scheme \"" + std::string(name) + "\" (expected " +
                                expected + ")");
  }
  OptionReader reader{std::string(name), options};
  std::unique_ptr<Scheme> scheme = builtin->make(reader, seed);
  reader.finish();
  return scheme;
}

namespace {

bool is_gemm(const nn::Layer& layer) {
  return layer.kind() == nn::LayerKind::conv || layer.kind() == nn::LayerKind::linear;
}

void add_columns(const nn::QuantSpec& spec, std::vector<nn::StatColumn>& columns) {
  if (!spec.custom) return;
  for (nn::StatColumn& column : spec.custom->columns())
    if (std::none_of(columns.begin(), columns.end(),
                     [&](const nn::StatColumn& c) { return c.name == column.name; }))
      columns.push_back(std::move(column));
}

}  // namespace

ConfigEntries apply_scheme(const Scheme& scheme, const nn::Model& model,
                           std::vector<nn::StatColumn>* columns) {
  const std::vector<nn::Layer*> leaves = model.leaves();
  LayerPosition position{.gemm_index = -1,
                         .gemm_layers = int(std::count_if(
                             leaves.begin(), leaves.end(), [](auto* l) { return is_gemm(*l); }))};
  int gemm_seen = 0;
  ConfigEntries entries;
  for (nn::Layer* layer : leaves) {
    position.gemm_index = is_gemm(*layer) ? gemm_seen++ : -1;
    nn::LayerPlan plan = scheme.plan(*layer, position);
    const std::string prefix = "scheme." + layer->name() + ".";
    for (const nn::QuantPoint& point : nn::quant_points(layer->kind())) {
      const nn::QuantSpec& spec = plan.spec(point.role, point.direction);
      entries.emplace_back(prefix + nn::trace_role(point.role, point.direction), to_string(spec));
      if (columns) add_columns(spec, *columns);
    }
    if (is_gemm(*layer)) entries.emplace_back(prefix + "engine", plan.engine->name());
    layer->set_plan(std::move(plan));
  }
  entries.emplace_back("scheme.logits", to_string(scheme.logits()));
  if (columns) add_columns(scheme.logits(), *columns);
  return entries;
}

std::shared_ptr<const nn::GemmEngine> fp32_engine_option(OptionReader& options) {
  const std::string name = options.text("engine", "onednn");
  if (name == "onednn") return nn::onednn_engine();
  if (name == "openblas") return nn::openblas_engine();
  throw std::invalid_argument("scheme option engine: \"" + name +
                              "\" (expected onednn or openblas)");
}

std::string OptionReader::text(const std::string& key, std::string fallback) {
  read_.push_back(key);
  const auto it = options_.find(key);
  return it == options_.end() ? std::move(fallback) : it->second;
}

void OptionReader::finish() const {
  for (const auto& [key, value] : options_) {
    if (std::find(read_.begin(), read_.end(), key) != read_.end()) continue;
    std::string known;
    for (const std::string& k : read_) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument(
        "scheme " + scheme_ + " has no option \"" + key + "\"" +
        (known.empty() ? std::string(" (it takes none)") : " (it takes " + known + ")"));
  }
}

}  // namespace lpsim::schemes
