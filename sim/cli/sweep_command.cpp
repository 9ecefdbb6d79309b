#include "sim/cli/sweep_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "sim/cli/commands.hpp"
#include "sim/sweep/cluster.hpp"
#include "sim/sweep/papers.hpp"
#include "sim/sweep/runner.hpp"
#include "sim/sweep/summary.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace lpsim {
namespace {

using namespace sweep;

struct CommandOptions {
  std::string file;  // empty: the papers sweep
  std::string out;
  int jobs = 0;  // 0: cores / threads per run (1 per rank under MPI)
  int threads_per_run = 1;
  bool resume = false;
  bool print_papers = false;
};

struct Loaded {
  SweepSpec spec;
  std::vector<Run> runs;
};

Loaded load(const CommandOptions& o) {
  try {
    SweepSpec spec =
        o.file.empty() ? parse_sweep(papers_toml(), std::string(kPapersFile)) : read_sweep(o.file);
    std::vector<Run> runs = expand(spec);
    return {std::move(spec), std::move(runs)};
  } catch (const SweepError& e) {
    throw cli::UsageError(e.what());
  }
}

SweepOptions resolve(const CommandOptions& o, const Cluster& cluster) {
  if (o.jobs < 0) throw cli::UsageError("--jobs: " + std::to_string(o.jobs) + " (need >= 1, or 0 for the default)");
  if (o.threads_per_run < 1 || o.threads_per_run > 256)
    throw cli::UsageError("--threads-per-run: " + std::to_string(o.threads_per_run) +
                          " (need 1..256)");
  SweepOptions options;
  options.threads_per_run = o.threads_per_run;
  options.resume = o.resume;
  const std::string stem =
      o.file.empty() ? std::string("papers") : std::filesystem::path(o.file).stem().string();
  options.out = o.out.empty() ? "sweep-" + stem : o.out;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  options.jobs = o.jobs > 0 ? o.jobs : cluster.mpi() ? 1 : std::max(1, cores / o.threads_per_run);
  return options;
}

// Runs the sweep; returns how many runs failed (rank 0; 0 elsewhere).
std::size_t run(const Loaded& sweep, const SweepOptions& options, Cluster& cluster) {
  const std::string prefix =
      cluster.size() > 1 ? "rank " + std::to_string(cluster.rank()) + ": " : "";
  std::ostringstream notes;
  std::vector<RunState> states = kept_runs(sweep.runs, options.out, cluster, notes);
  const auto kept = std::count_if(states.begin(), states.end(), [](const RunState& s) {
    return s.status == RunState::Status::finished;
  });
  std::cout << prefix << "sweep: " << sweep.runs.size() << " runs of " << sweep.spec.file
            << " into " << options.out.string() << " (" << cluster.size() << " rank"
            << (cluster.size() > 1 ? "s" : "") << " x " << options.jobs << " job"
            << (options.jobs > 1 ? "s" : "") << " x " << options.threads_per_run << " thread"
            << (options.threads_per_run > 1 ? "s" : "") << ")";
  if (options.resume) std::cout << "; resuming: " << kept << " finished runs kept";
  std::cout << '\n';
  std::istringstream note_lines(notes.str());
  for (std::string line; std::getline(note_lines, line);) std::cout << prefix << line << '\n';
  std::cout << std::flush;

  const bool terminal = cluster.size() == 1 && isatty(STDOUT_FILENO) != 0;
  states = run_sweep(sweep.runs, std::move(states), options, cluster, std::cout, terminal);
  if (cluster.rank() != 0) return 0;
  std::cout << '\n';
  print_comparison(std::cout, sweep.runs, states);
  std::cout << "summary: " << (options.out / "summary.csv").string() << ", "
            << (options.out / "summary.h5").string() << '\n';
  return std::size_t(std::count_if(states.begin(), states.end(), [](const RunState& s) {
    return s.status != RunState::Status::finished;
  }));
}

void run_sweep_command(const CommandOptions& o) {
  if (o.print_papers) {
    std::cout << papers_toml();
    return;
  }
  const Loaded sweep = load(o);
  Cluster cluster;
  const SweepOptions options = resolve(o, cluster);
  try {
    prepare_directory(sweep.spec, options, cluster);
  } catch (const SweepError& e) {
    throw cli::UsageError(e.what());
  }
  std::size_t failed = 0;
  try {
    failed = run(sweep, options, cluster);
  } catch (const std::exception& e) {
    if (cluster.size() == 1) throw;
    // The other ranks would wait for this one for ever.
    std::cout.flush();
    std::cerr << "lpsim: error: rank " << cluster.rank() << ": " << e.what() << std::endl;
    cluster.abort(1);
  }
  if (failed > 0)
    throw cli::DataError(std::to_string(failed) + " of " + std::to_string(sweep.runs.size()) +
                         " runs failed (see " + (options.out / "summary.csv").string() + ")");
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto options = std::make_shared<CommandOptions>();
  CommandOptions& o = *options;
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run every configuration of a sweep file -- fixed settings, axes crossed, excludes -- each\n"
      "with its own trace DIR/runs/RUN.h5, then write DIR/summary.csv and DIR/summary.h5 and\n"
      "print a comparison table. Without FILE: the built-in papers sweep (--print-papers shows\n"
      "it). Under mpirun or srun the runs are shared among the ranks. See docs/sweeps.md.");
  cmd->add_option("FILE", o.file, "sweep TOML file (default: the built-in papers sweep)");
  cmd->add_option("--out", o.out, "output directory (default sweep-<FILE's stem>, sweep-papers)");
  cmd->add_option("--jobs", o.jobs,
                  "runs at a time (default 0: cores / --threads-per-run; 1 per rank under MPI)");
  cmd->add_option("--threads-per-run", o.threads_per_run, "threads of each run")
      ->capture_default_str();
  cmd->add_flag("--resume", o.resume,
                "keep the finished runs of DIR and redo the others (after a kill, or to extend)");
  cmd->add_flag("--print-papers", o.print_papers, "print the built-in papers sweep file and exit");
  cmd->callback([options] { run_sweep_command(*options); });
}

}  // namespace lpsim
