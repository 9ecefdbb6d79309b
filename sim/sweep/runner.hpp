// Runs a sweep's runs: this process's share of them (run index modulo the cluster's size), on
// `jobs` threads, each run on its own train::Trainer; data sets loaded once and shared. Finished
// traces in DIR/runs are kept when resuming; the summary is rewritten after every finished run
// (one process) or once at the end by rank 0 (several).
#pragma once
#include <filesystem>
#include <iosfwd>
#include <vector>

#include "sim/sweep/cluster.hpp"
#include "sim/sweep/expand.hpp"
#include "sim/sweep/summary.hpp"

namespace lpsim::sweep {

struct SweepOptions {
  std::filesystem::path out;
  int jobs = 1;
  int threads_per_run = 1;
  bool resume = false;
};

// DIR/runs/<id>.h5
std::filesystem::path trace_path(const std::filesystem::path& dir, const Run& run);

// Checks DIR and creates it. Without `resume`, a DIR that holds runs is a SweepError that tells
// to pass --resume. Every rank calls it; rank 0 creates DIR/runs and writes DIR/sweep.toml, a copy
// of the sweep file.
void prepare_directory(const SweepSpec& spec, const SweepOptions& options, Cluster& cluster);

// The state of each run this process keeps from an earlier invocation: finished when its trace is
// a finished trace of its configuration. `notes` gets a line for each trace that is redone
// although it exists.
std::vector<RunState> kept_runs(const std::vector<Run>& runs, const std::filesystem::path& dir,
                                const Cluster& cluster, std::ostream& notes);

// Runs every run of this process that `states` does not hold as finished, showing progress on
// `out` (a redrawn line when `terminal`, else a line per finished run), and returns the states
// of all runs: complete on rank 0, this process's own elsewhere. Runs that throw are failed
// states, not errors.
std::vector<RunState> run_sweep(const std::vector<Run>& runs, std::vector<RunState> states,
                                const SweepOptions& options, Cluster& cluster, std::ostream& out,
                                bool terminal);

}  // namespace lpsim::sweep
