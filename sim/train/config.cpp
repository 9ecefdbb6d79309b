#include "sim/train/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "sim/nn/models.hpp"
#include "sim/nn/optimizer.hpp"

namespace lpsim::train {

std::filesystem::path TrainConfig::trace_path() const {
  return trace.empty() ? std::filesystem::path(model + "-" + scheme + ".h5")
                       : std::filesystem::path(trace);
}

namespace {

std::string number_text(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// One TOML key: how to store its value, and what type it must have.
struct Field {
  std::string_view key;
  std::string_view type;                                      // for the error message
  std::function<bool(const TomlValue&, TrainConfig&)> store;  // false: wrong type
};

template <class T>
Field integer_field(std::string_view key, T TrainConfig::*member) {
  return {key, "an integer", [member](const TomlValue& v, TrainConfig& c) {
            const auto* i = std::get_if<std::int64_t>(&v);
            if (!i || (std::is_unsigned_v<T> && *i < 0)) return false;
            c.*member = T(*i);
            return true;
          }};
}

Field number_field(std::string_view key, double TrainConfig::*member) {
  return {key, "a number", [member](const TomlValue& v, TrainConfig& c) {
            if (const auto* i = std::get_if<std::int64_t>(&v))
              c.*member = double(*i);
            else if (const auto* d = std::get_if<double>(&v))
              c.*member = *d;
            else
              return false;
            return true;
          }};
}

Field string_field(std::string_view key, std::string TrainConfig::*member) {
  return {key, "a string", [member](const TomlValue& v, TrainConfig& c) {
            const auto* s = std::get_if<std::string>(&v);
            if (!s) return false;
            c.*member = *s;
            return true;
          }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = {
      string_field("scheme", &TrainConfig::scheme),
      string_field("model", &TrainConfig::model),
      string_field("data", &TrainConfig::data),
      integer_field("epochs", &TrainConfig::epochs),
      integer_field("batch", &TrainConfig::batch),
      number_field("lr", &TrainConfig::lr),
      number_field("momentum", &TrainConfig::momentum),
      number_field("weight_decay", &TrainConfig::weight_decay),
      string_field("schedule", &TrainConfig::schedule),
      integer_field("lr_step_epochs", &TrainConfig::lr_step_epochs),
      number_field("lr_gamma", &TrainConfig::lr_gamma),
      integer_field("seed", &TrainConfig::seed),
      integer_field("threads", &TrainConfig::threads),
      string_field("trace", &TrainConfig::trace),
      integer_field("record_every", &TrainConfig::record_every),
      integer_field("flush_every", &TrainConfig::flush_every),
      integer_field("limit_train", &TrainConfig::limit_train),
      integer_field("limit_test", &TrainConfig::limit_test),
      integer_field("eval_batch", &TrainConfig::eval_batch),
  };
  return all;
}

constexpr std::string_view kSchemeOptionsTable = "scheme_options";

std::string where(const std::filesystem::path& file, const toml::node& n) {
  return file.string() + ":" + std::to_string(n.source().begin.line) + ": ";
}

// Runs `store`, prefixing a ConfigError it throws with "FILE:LINE: " of `node`.
void at(const std::filesystem::path& file, const toml::node& node,
        const std::function<void()>& store) {
  try {
    store();
  } catch (const ConfigError& e) {
    throw ConfigError(where(file, node) + e.what());
  }
}

}  // namespace

void set_toml_key(TrainConfig& config, std::string_view key, const TomlValue& value) {
  const auto& all = fields();
  const auto field =
      std::find_if(all.begin(), all.end(), [&](const Field& f) { return f.key == key; });
  if (field == all.end()) throw ConfigError("unknown key \"" + std::string(key) + "\"");
  if (!field->store(value, config))
    throw ConfigError("\"" + std::string(key) + "\" must be " + std::string(field->type));
}

std::string scheme_option_text(std::string_view key, const TomlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return number_text(*d);
  throw ConfigError("scheme option \"" + std::string(key) + "\" must be a string or a number");
}

void read_toml(const std::filesystem::path& file, TrainConfig& config) {
  if (!std::filesystem::is_regular_file(file)) throw ConfigError(file.string() + ": no such file");
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    if (key.str() != kSchemeOptionsTable) {
      at(file, node, [&] { set_toml_key(config, key.str(), toml_value(node)); });
      continue;
    }
    const toml::table* table = node.as_table();
    if (!table)
      throw ConfigError(where(file, node) + "\"" + std::string(key.str()) + "\" must be a table");
    for (const auto& [option, value] : *table)
      at(file, value, [&] {
        config.scheme_options[std::string(option.str())] =
            scheme_option_text(option.str(), toml_value(value));
      });
  }
}

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

}  // namespace

void validate(const TrainConfig& c) {
  const auto models = nn::model_names();
  require(std::find(models.begin(), models.end(), c.model) != models.end(),
          "unknown model \"" + c.model + "\" (expected mlp, lenet5, vgg-small or resnet20)");
  try {
    schemes::make_scheme(c.scheme, c.scheme_options, c.seed);  // its name and options
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  nn::ScheduleKind schedule;
  require(nn::parse_schedule(c.schedule, schedule),
          "schedule: \"" + c.schedule + "\" (expected constant, step or cosine)");
  require(c.epochs >= 1, "epochs: " + std::to_string(c.epochs) + " (need >= 1)");
  require(c.batch >= 1, "batch: " + std::to_string(c.batch) + " (need >= 1)");
  require(c.eval_batch >= 1, "eval_batch: " + std::to_string(c.eval_batch) + " (need >= 1)");
  require(c.lr > 0 && std::isfinite(c.lr), "lr: " + number_text(c.lr) + " (need > 0)");
  require(c.momentum >= 0 && c.momentum < 1,
          "momentum: " + number_text(c.momentum) + " (need 0 <= momentum < 1)");
  require(c.weight_decay >= 0 && std::isfinite(c.weight_decay),
          "weight_decay: " + number_text(c.weight_decay) + " (need >= 0)");
  require(c.lr_step_epochs >= 1,
          "lr_step_epochs: " + std::to_string(c.lr_step_epochs) + " (need >= 1)");
  require(c.lr_gamma > 0 && c.lr_gamma <= 1,
          "lr_gamma: " + number_text(c.lr_gamma) + " (need 0 < lr_gamma <= 1)");
  require(c.threads >= 1 && c.threads <= 256,
          "threads: " + std::to_string(c.threads) + " (need 1..256)");
  require(c.record_every >= 1, "record_every: " + std::to_string(c.record_every) + " (need >= 1)");
  require(c.flush_every >= 1, "flush_every: " + std::to_string(c.flush_every) + " (need >= 1)");
  require(c.limit_train >= 0, "limit_train: " + std::to_string(c.limit_train) + " (need >= 0)");
  require(c.limit_test >= 0, "limit_test: " + std::to_string(c.limit_test) + " (need >= 0)");
}

schemes::ConfigEntries config_entries(const TrainConfig& c) {
  schemes::ConfigEntries entries = {{"scheme", c.scheme},
                                    {"model", c.model},
                                    {"data", c.data},
                                    {"epochs", std::to_string(c.epochs)},
                                    {"batch", std::to_string(c.batch)},
                                    {"lr", number_text(c.lr)},
                                    {"momentum", number_text(c.momentum)},
                                    {"weight_decay", number_text(c.weight_decay)},
                                    {"schedule", c.schedule},
                                    {"lr_step_epochs", std::to_string(c.lr_step_epochs)},
                                    {"lr_gamma", number_text(c.lr_gamma)},
                                    {"record_every", std::to_string(c.record_every)},
                                    {"limit_train", std::to_string(c.limit_train)},
                                    {"limit_test", std::to_string(c.limit_test)},
                                    {"eval_batch", std::to_string(c.eval_batch)}};
  entries.insert(entries.end(), c.labels.begin(), c.labels.end());
  return entries;
}

}  // namespace lpsim::train
