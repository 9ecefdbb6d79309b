#include "sim/schemes/scheme.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/schemes/builtin.hpp"

namespace lpsim::schemes {

namespace {
constexpr std::string_view kNames[] = {"fp32", "fp16-mixed", "dfp16"};
}

std::span<const std::string_view> scheme_names() { return kNames; }

std::unique_ptr<Scheme> make_scheme(std::string_view name, const SchemeOptions& options,
                                    std::uint64_t seed) {
  OptionReader reader{std::string(name), options};
  std::unique_ptr<Scheme> scheme;
  if (name == "fp32")
    scheme = make_fp32(reader);
  else if (name == "fp16-mixed")
    scheme = make_fp16_mixed(reader, seed);
  else if (name == "dfp16")
    scheme = make_dfp16(reader, seed);
  else
    throw std::invalid_argument("unknown scheme \"" + std::string(name) +
                                "\" (expected fp32, fp16-mixed or dfp16)");
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
