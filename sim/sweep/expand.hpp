// A sweep's runs: the cartesian product of its axes, less the excluded runs.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "sim/sweep/sweep_spec.hpp"

namespace lpsim::sweep {

struct Run {
  std::size_t index = 0;
  std::string id;             // the index, zero-padded: "0003"
  train::TrainConfig config;  // threads, trace and labels are the runner's
  // The run's value of each axis, in axis order ("scheme" -> "dfp16", "dfp16.acc" -> "acc:..."):
  // scoped axes of other schemes are absent.
  std::vector<std::pair<std::string, std::string>> assignment;
};

// The runs in expansion order: axes in SweepSpec::axes order, the last one fastest; a scoped axis
// multiplies only the runs of its scheme, which also get that scheme's fixed options. Checks every
// run's configuration (train::validate). Throws SweepError "FILE:LINE: axes: run ID (AXIS=VALUE,
// ...): ..." for a combination that cannot run, and when every run is excluded.
std::vector<Run> expand(const SweepSpec& spec);

}  // namespace lpsim::sweep
