#include "sim/sweep/expand.hpp"

#include <algorithm>

namespace lpsim::sweep {
namespace {

bool excluded(const SweepSpec& spec, const Run& run) {
  return std::any_of(spec.excludes.begin(), spec.excludes.end(), [&](const Exclude& e) {
    return std::all_of(e.match.begin(), e.match.end(), [&](const auto& axis_value) {
      return std::find(run.assignment.begin(), run.assignment.end(), axis_value) !=
             run.assignment.end();
    });
  });
}

class Expander {
 public:
  explicit Expander(const SweepSpec& spec) : spec_(spec) {}

  std::vector<Run> expand() {
    Run first;
    first.config = spec_.fixed;
    from(0, first);
    if (runs_.empty()) {
      const int line = spec_.excludes.empty() ? spec_.axes_line : spec_.excludes.front().line;
      throw SweepError(spec_.file + ":" + std::to_string(line) +
                       ": exclude: every run is excluded");
    }
    const std::size_t width = std::max<std::size_t>(4, std::to_string(runs_.size() - 1).size());
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      Run& run = runs_[i];
      run.index = i;
      run.id = std::to_string(i);
      run.id.insert(0, width - run.id.size(), '0');
      check(run);
    }
    return std::move(runs_);
  }

 private:
  const SweepSpec& spec_;
  std::vector<Run> runs_;

  void from(std::size_t axis_index, const Run& partial) {
    if (axis_index == spec_.axes.size()) {
      Run run = partial;
      if (const auto fixed = spec_.scheme_options.find(run.config.scheme);
          fixed != spec_.scheme_options.end())
        run.config.scheme_options.insert(fixed->second.begin(), fixed->second.end());
      if (!excluded(spec_, run)) runs_.push_back(std::move(run));
      return;
    }
    const Axis& axis = spec_.axes[axis_index];
    if (axis.scoped() && partial.config.scheme != axis.scheme) {
      from(axis_index + 1, partial);
      return;
    }
    for (const AxisValue& value : axis.values) {
      Run run = partial;
      if (axis.scoped())
        run.config.scheme_options[axis.option] = value.text;
      else
        train::set_toml_key(run.config, axis.name, value.value);  // checked by parse_sweep
      run.assignment.emplace_back(axis.name, value.text);
      from(axis_index + 1, run);
    }
  }

  void check(const Run& run) const {
    try {
      train::validate(run.config);
    } catch (const train::ConfigError& e) {
      std::string values;
      for (const auto& [axis, value] : run.assignment)
        values += (values.empty() ? "" : ", ") + axis + "=" + value;
      throw SweepError(spec_.file + ":" + std::to_string(spec_.axes_line) + ": axes: run " +
                       run.id + " (" + values + "): " + e.what());
    }
  }
};

}  // namespace

std::vector<Run> expand(const SweepSpec& spec) { return Expander(spec).expand(); }

}  // namespace lpsim::sweep
