#include "sim/sweep/sweep_spec.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/train/data_source.hpp"

namespace lpsim::sweep {

std::string value_text(const train::TomlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buffer[32];
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, *d).ptr);
  }
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return "";
}

namespace {

constexpr std::string_view kAxes = "axes", kExclude = "exclude", kSchemeOptions = "scheme_options";

int line_of(const toml::node& node) { return int(node.source().begin.line); }

// The entries of a table in file order (toml++ keeps them sorted by key).
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (const auto& [key, node] : table) entries.emplace_back(std::string(key.str()), &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.second->source().begin;
    const auto& pb = b.second->source().begin;
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  return entries;
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) {
    spec_.file = file;
    spec_.text = std::string(text);
  }

  SweepSpec parse() {
    toml::table root;
    try {
      root = toml::parse(spec_.text, spec_.file);
    } catch (const toml::parse_error& e) {
      throw SweepError(spec_.file + ":" + std::to_string(e.source().begin.line) + ": " +
                       std::string(e.description()));
    }
    const toml::node* axes = nullptr;
    const toml::node* excludes = nullptr;
    for (const auto& [key, node] : in_file_order(root)) {
      if (key == kAxes)
        axes = node;
      else if (key == kExclude)
        excludes = node;
      else if (key == kSchemeOptions)
        read_scheme_options(*node);
      else
        read_fixed(key, *node);
    }
    if (!axes) fail(1, "axes: missing: a sweep needs an [axes] table of lists to cross");
    read_axes(*axes);
    if (excludes) read_excludes(*excludes);
    return std::move(spec_);
  }

 private:
  SweepSpec spec_;
  std::map<std::string, int> fixed_lines_;  // fixed key -> line

  [[noreturn]] void fail(int line, const std::string& message) const {
    throw SweepError(spec_.file + ":" + std::to_string(line) + ": " + message);
  }

  // Runs `check`, locating a ConfigError it throws at `line`.
  template <class F>
  void at(int line, F&& check) const {
    try {
      check();
    } catch (const train::ConfigError& e) {
      fail(line, e.what());
    }
  }

  // Why a sweep file cannot set `key` ("" when it can).
  static std::string set_by_sweep(std::string_view key) {
    if (key == "threads") return "threads: set by lpsim sweep (--threads-per-run)";
    if (key == "trace") return "trace: set by lpsim sweep (DIR/runs/RUN.h5)";
    return "";
  }

  // A field's value alone on the defaults: a scheme, model, schedule, data set that exists, a
  // number in range.
  void check_field(const std::string& key, const train::TomlValue& value, int line) const {
    at(line, [&] {
      train::TrainConfig config;
      train::set_toml_key(config, key, value);
      train::validate(config);
      train::parse_data_spec(config.data);
    });
  }

  // A scheme option alone, on the scheme's other defaults. The schemes' messages do not always
  // name the option: `key` does.
  void check_option(const std::string& key, const std::string& scheme, const std::string& option,
                    const std::string& text, int line) const {
    try {
      train::TrainConfig config;
      config.scheme = scheme;
      config.scheme_options[option] = text;
      train::validate(config);
    } catch (const train::ConfigError& e) {
      fail(line, key + ": " + e.what());
    }
  }

  void require_scheme(const std::string& scheme, int line, const std::string& key) const {
    const auto names = schemes::scheme_names();
    if (std::find(names.begin(), names.end(), scheme) == names.end()) {
      std::string known;
      for (std::string_view n : names) known += (known.empty() ? "" : ", ") + std::string(n);
      fail(line, key + ": unknown scheme \"" + scheme + "\" (expected " + known + ")");
    }
  }

  void read_fixed(const std::string& key, const toml::node& node) {
    const int line = line_of(node);
    if (const std::string why = set_by_sweep(key); !why.empty()) fail(line, why);
    const train::TomlValue value = train::toml_value(node);
    at(line, [&] { train::set_toml_key(spec_.fixed, key, value); });
    check_field(key, value, line);
    fixed_lines_[key] = line;
  }

  void read_scheme_options(const toml::node& node) {
    const toml::table* schemes = node.as_table();
    if (!schemes)
      fail(line_of(node), "scheme_options: must be tables [scheme_options.SCHEME] of options");
    for (const auto& [scheme, options_node] : in_file_order(*schemes)) {
      const std::string key = "scheme_options." + scheme;
      const toml::table* options = options_node->as_table();
      if (!options)
        fail(line_of(*options_node),
             key + ": must be a table [scheme_options.SCHEME] of that scheme's options");
      require_scheme(scheme, line_of(*options_node), key);
      for (const auto& [option, value] : in_file_order(*options)) {
        const int line = line_of(*value);
        std::string text;
        at(line, [&] { text = train::scheme_option_text(option, train::toml_value(*value)); });
        check_option(key + "." + option, scheme, option, text, line);
        spec_.scheme_options[scheme][option] = text;
        spec_.scheme_options_lines[scheme + "." + option] = line;
      }
    }
  }

  Axis read_axis(const std::string& name, const toml::node& node) const {
    Axis axis;
    axis.name = name;
    axis.line = line_of(node);
    const std::string key = "axes." + name;
    const toml::array* list = node.as_array();
    if (!list) fail(axis.line, key + ": must be a list of values");
    if (list->empty()) fail(axis.line, key + ": empty list");
    if (const std::size_t dot = name.find('.'); dot != std::string::npos) {
      axis.scheme = name.substr(0, dot);
      axis.option = name.substr(dot + 1);
      if (axis.option.empty()) fail(axis.line, key + ": expected SCHEME.OPTION");
      require_scheme(axis.scheme, axis.line, key);
    } else {
      if (const std::string why = set_by_sweep(name); !why.empty()) fail(axis.line, "axes." + why);
      if (name == kSchemeOptions)
        fail(axis.line, key + ": sweep a scheme option as \"SCHEME.OPTION\" = [...]");
    }
    for (const toml::node& element : *list) {
      AxisValue v;
      v.value = train::toml_value(element);
      v.line = element.source().begin.line > 0 ? line_of(element) : axis.line;
      if (axis.scoped()) {
        at(v.line, [&] { v.text = train::scheme_option_text(axis.option, v.value); });
        check_option(key, axis.scheme, axis.option, v.text, v.line);
      } else {
        at(v.line, [&] {
          train::TrainConfig scratch;
          train::set_toml_key(scratch, name, v.value);
        });
        check_field(name, v.value, v.line);
        v.text = value_text(v.value);
      }
      for (const AxisValue& earlier : axis.values)
        if (earlier.text == v.text) fail(v.line, key + ": " + v.text + " is listed twice");
      axis.values.push_back(std::move(v));
    }
    return axis;
  }

  void read_axes(const toml::node& node) {
    const toml::table* table = node.as_table();
    spec_.axes_line = line_of(node);
    if (!table) fail(spec_.axes_line, "axes: must be a table of lists");
    if (table->empty()) fail(spec_.axes_line, "axes: no axes");
    std::vector<Axis> fields, scoped;
    for (const auto& [name, value] : in_file_order(*table)) {
      Axis axis = read_axis(name, *value);
      if (axis.scoped()) {
        const std::string option = axis.scheme + "." + axis.option;
        if (const auto it = spec_.scheme_options_lines.find(option);
            it != spec_.scheme_options_lines.end())
          fail(axis.line, "axes." + name + ": also fixed in [scheme_options." + axis.scheme +
                              "] (line " + std::to_string(it->second) + "); give one or the other");
        scoped.push_back(std::move(axis));
      } else {
        if (const auto it = fixed_lines_.find(name); it != fixed_lines_.end())
          fail(axis.line, "axes." + name + ": also a fixed setting (line " +
                              std::to_string(it->second) + "); give one or the other");
        fields.push_back(std::move(axis));
      }
    }
    // Scoped axes follow the scheme axis (or lead, when the scheme is fixed).
    const auto scheme_axis = std::find_if(fields.begin(), fields.end(),
                                          [](const Axis& a) { return a.name == "scheme"; });
    std::set<std::string> schemes = {spec_.fixed.scheme};
    if (scheme_axis != fields.end()) {
      schemes.clear();
      for (const AxisValue& v : scheme_axis->values) schemes.insert(v.text);
    }
    for (const Axis& axis : scoped)
      if (!schemes.contains(axis.scheme))
        fail(axis.line, "axes." + axis.name + ": no run has scheme " + axis.scheme +
                            (scheme_axis != fields.end()
                                 ? " (add it to axes.scheme)"
                                 : " (the fixed scheme is " + spec_.fixed.scheme + ")"));
    const auto insert_at = scheme_axis == fields.end() ? fields.begin() : scheme_axis + 1;
    fields.insert(insert_at, std::make_move_iterator(scoped.begin()),
                  std::make_move_iterator(scoped.end()));
    spec_.axes = std::move(fields);
  }

  void read_excludes(const toml::node& node) {
    const toml::array* list = node.as_array();
    if (!list || !list->is_array_of_tables())
      fail(line_of(node), "exclude: must be [[exclude]] tables");
    for (const toml::node& element : *list) {
      const toml::table& table = *element.as_table();
      Exclude exclude;
      exclude.line = line_of(element);
      if (table.empty()) fail(exclude.line, "exclude: empty table (it would drop every run)");
      for (const auto& [name, value] : in_file_order(table)) {
        const int line = line_of(*value);
        const std::string key = "exclude." + name;
        const auto axis = std::find_if(spec_.axes.begin(), spec_.axes.end(),
                                       [&](const Axis& a) { return a.name == name; });
        if (axis == spec_.axes.end()) fail(line, key + ": not an axis");
        const train::TomlValue v = train::toml_value(*value);
        std::string text;
        at(line, [&] {
          if (axis->scoped()) {
            text = train::scheme_option_text(axis->option, v);
          } else {
            train::TrainConfig scratch;
            train::set_toml_key(scratch, name, v);
            text = value_text(v);
          }
        });
        if (std::none_of(axis->values.begin(), axis->values.end(),
                         [&](const AxisValue& a) { return a.text == text; }))
          fail(line, key + ": " + text + " is not a value of axes." + name);
        exclude.match.emplace_back(name, text);
      }
      spec_.excludes.push_back(std::move(exclude));
    }
  }
};

}  // namespace

SweepSpec parse_sweep(std::string_view text, const std::string& file) {
  return Parser(text, file).parse();
}

SweepSpec read_sweep(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in || !std::filesystem::is_regular_file(file))
    throw SweepError(file.string() + ": no such file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sweep(text.str(), file.string());
}

}  // namespace lpsim::sweep
