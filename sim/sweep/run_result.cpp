#include "sim/sweep/run_result.hpp"

#include <algorithm>

#include "traces/reader.hpp"

namespace lpsim::sweep {
namespace {

using Config = std::map<std::string, std::string>;

std::string entry(const Config& config, std::string_view key) {
  const auto it = config.find(std::string(key));
  return it == config.end() ? std::string() : it->second;
}

bool has(const Config& config, const std::string& key, const std::string& value) {
  const auto it = config.find(key);
  return it != config.end() && it->second == value;
}

bool written_for(const traces::TraceReader& trace, const Config& written,
                 const train::TrainConfig& config) {
  train::TrainConfig unlabelled = config;
  unlabelled.labels.clear();
  for (const auto& [key, value] : train::config_entries(unlabelled))
    if (!has(written, key, value)) return false;
  if (trace.seed() != config.seed) return false;
  const std::string prefix = "scheme_option.";
  const auto resolved =
      schemes::make_scheme(config.scheme, config.scheme_options, config.seed)->options();
  std::size_t written_options = 0;
  for (const auto& [key, value] : written) written_options += key.starts_with(prefix);
  if (written_options != resolved.size()) return false;
  return std::all_of(resolved.begin(), resolved.end(), [&](const auto& option) {
    return has(written, prefix + option.first, option.second);
  });
}

double number(const std::map<std::string, traces::SummaryValue>& summary, const char* key) {
  const auto it = summary.find(key);
  if (it == summary.end()) return 0;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&it->second)) return double(*i);
  return 0;
}

}  // namespace

std::optional<RunResult> finished_result(const std::filesystem::path& trace,
                                         const train::TrainConfig& config) {
  std::error_code error;
  if (!std::filesystem::exists(trace, error)) return std::nullopt;
  const traces::TraceReader reader(trace);
  const auto summary = reader.summary();
  const Config written = reader.config();
  if (!summary.contains("finished") || !written_for(reader, written, config)) return std::nullopt;
  RunResult r;
  r.test_accuracy = number(summary, "test_accuracy");
  r.test_loss = number(summary, "test_loss");
  r.steps = std::int64_t(number(summary, "steps"));
  r.skipped_steps = std::int64_t(number(summary, "skipped_steps"));
  r.final_loss_scale = number(summary, "final_loss_scale");
  r.images_per_second = number(summary, "images_per_second");
  r.train_seconds = number(summary, "train_seconds");
  r.seconds = number(summary, "seconds");
  const std::pair<const char*, std::int64_t*> counts[] = {{"overflow", &r.overflow},
                                                          {"saturated", &r.saturated},
                                                          {"wrapped", &r.wrapped},
                                                          {"underflow", &r.underflow},
                                                          {"flushed_to_zero", &r.flushed_to_zero},
                                                          {"nan", &r.nan}};
  for (const traces::TensorId& tensor : reader.tensors()) {
    const std::string group = traces::tensor_group(tensor.layer, tensor.role);
    for (const auto& [column, total] : counts)
      for (const std::int64_t n : reader.read_int64(group, column)) *total += n;
  }
  r.rank = entry(written, kRankLabel);
  r.host = entry(written, kHostLabel);
  return r;
}

}  // namespace lpsim::sweep
