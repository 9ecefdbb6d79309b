#include "sim/sweep/summary.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <set>

#include "sim/train/progress.hpp"
#include "traces/schema.hpp"

namespace lpsim::sweep {
namespace {

using traces::TableColumn;
using Status = RunState::Status;

constexpr double kMissingFloat = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kOptionPrefix = "scheme_option.";

std::string status_text(const RunState& s) {
  switch (s.status) {
    case Status::finished:
      return "finished";
    case Status::failed:
      return "failed: " + s.failure;
    case Status::pending:
      break;
  }
  return "pending";
}

// The configuration's columns: config_entries() in order, then the seed.
std::vector<std::pair<std::string, std::string>> config_cells(const train::TrainConfig& config) {
  auto cells = train::config_entries(config);
  cells.emplace_back("seed", std::to_string(config.seed));
  return cells;
}

std::string config_units(const std::string& key) {
  static const std::map<std::string, std::string> units = {
      {"epochs", "epoch"},      {"batch", "sample"},       {"lr_step_epochs", "epoch"},
      {"record_every", "step"}, {"limit_train", "sample"}, {"limit_test", "sample"},
      {"eval_batch", "sample"}};
  const auto it = units.find(key);
  return it == units.end() ? "1" : it->second;
}

template <class T>
bool parses_as(const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

template <class T>
T parse(const std::string& text) {
  T value{};
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// A text column typed by its values: int64 if all (present) read as integers, float64 if all read
// as numbers, strings otherwise. Empty texts are missing.
TableColumn typed_column(std::string name, std::string units, std::string description,
                         const std::vector<std::string>& texts) {
  TableColumn column{std::move(name), std::move(units), std::move(description), {}};
  const auto all = [&](auto predicate) {
    return std::all_of(texts.begin(), texts.end(),
                       [&](const std::string& t) { return t.empty() || predicate(t); });
  };
  const bool any = std::any_of(texts.begin(), texts.end(), [](auto& t) { return !t.empty(); });
  if (any && all(parses_as<std::int64_t>)) {
    std::vector<std::int64_t> values;
    for (const std::string& t : texts)
      values.push_back(t.empty() ? traces::kMissingInt64 : parse<std::int64_t>(t));
    column.values = std::move(values);
  } else if (any && all(parses_as<double>)) {
    std::vector<double> values;
    for (const std::string& t : texts)
      values.push_back(t.empty() ? kMissingFloat : parse<double>(t));
    column.values = std::move(values);
  } else {
    column.values = texts;
  }
  return column;
}

template <class T>
TableColumn metric_column(std::string name, std::string units, std::string description,
                          const std::vector<RunState>& states, T RunResult::*field) {
  std::vector<T> values;
  for (const RunState& s : states) {
    if (s.result)
      values.push_back((*s.result).*field);
    else if constexpr (std::is_same_v<T, double>)
      values.push_back(kMissingFloat);
    else
      values.push_back(traces::kMissingInt64);
  }
  return {std::move(name), std::move(units), std::move(description), std::move(values)};
}

std::string number_text(double v) {
  if (std::isnan(v)) return "";
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, v).ptr);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string cell_text(const TableColumn& column, std::size_t row) {
  return std::visit(
      [&](const auto& values) -> std::string {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, double>)
          return number_text(values[row]);
        else if constexpr (std::is_same_v<T, std::int64_t>)
          return values[row] == traces::kMissingInt64 ? "" : std::to_string(values[row]);
        else
          return values[row];
      },
      column.values);
}

// Writes `fill(out)` to `path` through a temporary file renamed over it.
void replace_file(const std::filesystem::path& path,
                  const std::function<void(std::ostream&)>& fill) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    fill(out);
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace

std::vector<TableColumn> summary_columns(const std::vector<Run>& runs,
                                         const std::vector<RunState>& states) {
  std::vector<TableColumn> columns;
  const auto strings = [&](std::string name, std::string description,
                           const std::function<std::string(const Run&, const RunState&)>& cell) {
    std::vector<std::string> values;
    for (std::size_t i = 0; i < runs.size(); ++i) values.push_back(cell(runs[i], states[i]));
    columns.push_back({std::move(name), "1", std::move(description), std::move(values)});
  };
  strings("run", "run id: the run's index in expansion order, zero-padded",
          [](const Run& r, const RunState&) { return r.id; });
  strings("status", "finished, failed: <why>, or pending (not run yet)",
          [](const Run&, const RunState& s) { return status_text(s); });
  strings("trace", "the run's trace (traces/SCHEMA.md), relative to the sweep directory",
          [](const Run& r, const RunState&) { return "runs/" + r.id + ".h5"; });
  std::vector<std::string> ranks;
  for (const RunState& s : states) ranks.push_back(s.result ? s.result->rank : "");
  columns.push_back(typed_column("rank", "1", "MPI rank that ran it (0 without MPI)", ranks));
  strings("host", "the host that ran it",
          [](const Run&, const RunState& s) { return s.result ? s.result->host : ""; });

  std::vector<std::vector<std::pair<std::string, std::string>>> configs;
  for (const Run& r : runs) configs.push_back(config_cells(r.config));
  for (std::size_t k = 0; !configs.empty() && k < configs.front().size(); ++k) {
    std::vector<std::string> texts;
    for (const auto& c : configs) texts.push_back(c[k].second);
    const std::string& key = configs.front()[k].first;
    columns.push_back(typed_column(key, config_units(key),
                                   "configuration: " + key + " (lpsim train's option of that name)",
                                   texts));
  }
  std::set<std::string> options;
  for (const Run& r : runs)
    for (const auto& [key, value] : r.config.scheme_options) options.insert(key);
  for (const std::string& key : options) {
    std::vector<std::string> texts;
    for (const Run& r : runs) {
      const auto it = r.config.scheme_options.find(key);
      texts.push_back(it == r.config.scheme_options.end() ? "" : it->second);
    }
    columns.push_back(typed_column(
        kOptionPrefix + key, "1",
        "scheme option " + key + " as the sweep gives it (empty: not given to this run)", texts));
  }

  columns.push_back(metric_column(
      "test_accuracy", "1", "fraction of the test set classified correctly after the last epoch",
      states, &RunResult::test_accuracy));
  columns.push_back(metric_column("test_loss", "nat",
                                  "mean cross-entropy on the test set after the last epoch", states,
                                  &RunResult::test_loss));
  columns.push_back(metric_column("steps", "step", "optimizer steps", states, &RunResult::steps));
  columns.push_back(metric_column("skipped_steps", "step",
                                  "steps whose update was skipped (non-finite gradients)", states,
                                  &RunResult::skipped_steps));
  columns.push_back(metric_column("final_loss_scale", "1", "the loss scale at the end", states,
                                  &RunResult::final_loss_scale));
  columns.push_back(metric_column("images_per_second", "image/s",
                                  "training images per second of training-step time", states,
                                  &RunResult::images_per_second));
  columns.push_back(metric_column("train_seconds", "s", "time spent in training steps", states,
                                  &RunResult::train_seconds));
  columns.push_back(metric_column("seconds", "s",
                                  "the whole run, test evaluations and trace writing included",
                                  states, &RunResult::seconds));
  for (const auto& [name, field] : {std::pair{"overflow", &RunResult::overflow},
                                    {"saturated", &RunResult::saturated},
                                    {"wrapped", &RunResult::wrapped},
                                    {"underflow", &RunResult::underflow},
                                    {"flushed_to_zero", &RunResult::flushed_to_zero},
                                    {"nan", &RunResult::nan}})
    columns.push_back(metric_column(name, "count",
                                    std::string("total of the trace's /tensors column ") + name +
                                        " over every recorded conversion (every record_every-th "
                                        "step)",
                                    states, field));
  return columns;
}

void write_csv(std::ostream& out, const std::vector<TableColumn>& columns) {
  const auto line = [&](const std::function<std::string(const TableColumn&)>& cell) {
    for (std::size_t c = 0; c < columns.size(); ++c)
      out << (c > 0 ? "," : "") << csv_field(cell(columns[c]));
    out << "\r\n";
  };
  line([](const TableColumn& c) { return c.name; });
  const std::size_t rows = columns.empty() ? 0 : columns.front().size();
  for (std::size_t row = 0; row < rows; ++row)
    line([&](const TableColumn& c) { return cell_text(c, row); });
}

void write_summary(const std::filesystem::path& dir, const std::vector<Run>& runs,
                   const std::vector<RunState>& states) {
  const std::vector<TableColumn> columns = summary_columns(runs, states);
  replace_file(dir / "summary.csv", [&](std::ostream& out) { write_csv(out, columns); });
  traces::write_summary_table(dir / "summary.h5", columns);
}

namespace {

bool is_variant_axis(const std::string& axis) { return axis != "scheme" && axis != "seed"; }

// The fp32 run whose values of every unscoped axis but `scheme` equal the run's.
const Run* fp32_baseline(const std::vector<Run>& runs, const Run& run) {
  const auto shared = [](const Run& r) {
    std::vector<std::pair<std::string, std::string>> values;
    for (const auto& [axis, value] : r.assignment)
      if (axis != "scheme" && axis.find('.') == std::string::npos) values.emplace_back(axis, value);
    return values;
  };
  const auto wanted = shared(run);
  for (const Run& r : runs)
    if (r.config.scheme == "fp32" && shared(r) == wanted) return &r;
  return nullptr;
}

std::string variant_text(const Run& run) {
  std::string text;
  for (const auto& [axis, value] : run.assignment) {
    if (!is_variant_axis(axis)) continue;
    const std::size_t dot = axis.find('.');
    text += (text.empty() ? "" : " ") + (dot == std::string::npos ? axis : axis.substr(dot + 1)) +
            "=" + value;
  }
  return text;
}

}  // namespace

void print_comparison(std::ostream& out, const std::vector<Run>& runs,
                      const std::vector<RunState>& states) {
  std::vector<std::vector<std::string>> table = {{"run", "scheme", "variant", "seed", "test acc %",
                                                  "vs fp32", "images/s", "overflow+sat+wrap",
                                                  "flushed to 0"}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run& run = runs[i];
    const RunState& state = states[i];
    std::vector<std::string> row = {run.id, run.config.scheme, variant_text(run),
                                    std::to_string(run.config.seed)};
    if (!state.result) {
      row.push_back(state.status == Status::failed ? "failed" : "not run");
      row.insert(row.end(), 4, std::string());
    } else {
      const RunResult& r = *state.result;
      row.push_back(train::printf_text("%.2f", 100 * r.test_accuracy));
      const Run* baseline = fp32_baseline(runs, run);
      const RunState* base_state = baseline ? &states[baseline->index] : nullptr;
      row.push_back(base_state && base_state->result
                        ? train::printf_text(
                              "%+.2f", 100 * (r.test_accuracy - base_state->result->test_accuracy))
                        : "");
      row.push_back(train::printf_text("%.0f", r.images_per_second));
      row.push_back(std::to_string(r.overflow + r.saturated + r.wrapped));
      row.push_back(std::to_string(r.flushed_to_zero));
    }
    table.push_back(std::move(row));
  }
  std::vector<std::size_t> widths(table.front().size(), 0);
  for (const auto& row : table)
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  const std::set<std::size_t> right_aligned = {3, 4, 5, 6, 7, 8};
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - row[c].size(), ' ');
      line += (c > 0 ? "  " : "") + (right_aligned.contains(c) ? pad + row[c] : row[c] + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  }
  out << "vs fp32: points of test accuracy against the fp32 run with the same seed and settings "
         "(blank where the sweep has none)\n";
}

}  // namespace lpsim::sweep
