// The configuration of a training run: defaults, a TOML file, then command-line overrides.
#pragma once
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sim/schemes/scheme.hpp"

namespace lpsim::train {

// A configuration that cannot run: a bad TOML key, type or value, an unknown model or scheme.
// One line; for TOML files it starts with "FILE:LINE: ".
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct TrainConfig {
  std::string scheme = "fp32";
  schemes::SchemeOptions scheme_options;
  std::string model = "lenet5";
  std::string data = "fashion-mnist";  // see data_source.hpp
  std::int64_t epochs = 5;
  std::int64_t batch = 64;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";  // constant, step, cosine
  std::int64_t lr_step_epochs = 2;  // step schedule: epochs between decays
  double lr_gamma = 0.1;            // step schedule: decay factor
  std::uint64_t seed = 1;
  std::int64_t threads = 1;
  std::string trace;               // empty: "<model>-<scheme>.h5"
  std::int64_t record_every = 10;  // tensor statistics every N steps (steps rows: every step)
  std::int64_t flush_every = 100;  // trace rows written to disk every N steps
  std::int64_t limit_train = 0;    // use only the first N training samples (0: all)
  std::int64_t limit_test = 0;     // use only the first N test samples (0: all)
  std::int64_t eval_batch = 256;
  // Extra /config entries that do not change the run (a sweep's run id, rank and host); not a
  // TOML key. Keys must differ from the fields' names.
  std::vector<std::pair<std::string, std::string>> labels;

  std::filesystem::path trace_path() const;
};

// Reads a TOML file over `config`: top-level keys named as the fields above, and a
// [scheme_options] table whose values (strings or numbers) go to scheme_options. Throws
// ConfigError "FILE:LINE: ..." for a syntax error, an unknown key, or a value of the wrong type,
// and "FILE: no such file".
void read_toml(const std::filesystem::path& file, TrainConfig& config);

// A scalar TOML value as the configuration readers see it (a date, array or table: monostate).
using TomlValue = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

// `node` is a toml::node; a template so that this header does not include toml++.
template <class Node>
TomlValue toml_value(const Node& node) {
  if (const auto v = node.template value_exact<bool>()) return *v;
  if (const auto v = node.template value_exact<std::int64_t>()) return *v;
  if (const auto v = node.template value_exact<double>()) return *v;
  if (const auto v = node.template value_exact<std::string>()) return *v;
  return std::monostate{};
}

// Sets the field a top-level key of read_toml's files names (not scheme_options). Throws
// ConfigError `unknown key "K"` or `"K" must be an integer` (without file and line: the caller
// knows them).
void set_toml_key(TrainConfig& config, std::string_view key, const TomlValue& value);

// A [scheme_options] value as text (a string as it is, a number as text). Throws ConfigError
// `scheme option "K" must be a string or a number`.
std::string scheme_option_text(std::string_view key, const TomlValue& value);

// Throws ConfigError naming the field for a value out of range (epochs < 1, lr <= 0, an unknown
// schedule, model or scheme, scheme options the scheme rejects, ...).
void validate(const TrainConfig& config);

// key -> value text of every field, for the trace's /config ("threads", "trace", "flush_every"
// and "seed" excluded: results do not depend on the first three, and /config has its own seed),
// then the labels.
schemes::ConfigEntries config_entries(const TrainConfig& config);

}  // namespace lpsim::train
