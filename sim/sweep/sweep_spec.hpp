// A sweep file (docs/sweeps.md): fixed settings -- any top-level key of `lpsim train --config`
// files but `threads` and `trace` --, [scheme_options.<scheme>] tables, an [axes] table whose lists
// are crossed, and [[exclude]] tables that drop runs.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/train/config.hpp"

namespace lpsim::sweep {

// A sweep file that cannot run: one line, "FILE:LINE: ..." (the key is in the message).
struct SweepError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct AxisValue {
  train::TomlValue value;
  std::string text;  // value_text(value): how run assignments and excludes name it
  int line = 0;
};

// An axis: a TrainConfig field ("lr") or, scoped to one scheme, a scheme option ("dfp16.acc").
struct Axis {
  std::string name;
  std::string scheme, option;  // of a scoped axis; empty for a field axis
  std::vector<AxisValue> values;
  int line = 0;
  bool scoped() const { return !scheme.empty(); }
};

// Drops every run whose values of the named axes are all the given ones.
struct Exclude {
  std::vector<std::pair<std::string, std::string>> match;  // axis name -> value text
  int line = 0;
};

struct SweepSpec {
  std::string file;          // the name in messages
  std::string text;          // the file as read
  train::TrainConfig fixed;  // defaults, then the fixed settings (no scheme options)
  std::map<std::string, schemes::SchemeOptions> scheme_options;  // fixed, per scheme
  std::map<std::string, int> scheme_options_lines;               // option "dfp16.acc" -> line
  std::vector<Axis> axes;  // in expansion order: file order, scoped axes right after `scheme`
  std::vector<Exclude> excludes;
  int axes_line = 1;  // the [axes] table's line, for errors of whole runs
};

// "fp32", "7", "0.05" (the shortest text that reads back), "true".
std::string value_text(const train::TomlValue& value);

// Parses a sweep file's text and checks each value on its own (a scheme, format or rounding that
// exists, a number in range); combinations are checked by expand(). `file` names it in messages.
// Throws SweepError.
SweepSpec parse_sweep(std::string_view text, const std::string& file);

// Reads and parses a file; SweepError "FILE: no such file" when it cannot be read.
SweepSpec read_sweep(const std::filesystem::path& file);

}  // namespace lpsim::sweep
