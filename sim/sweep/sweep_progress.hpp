// What `lpsim sweep` shows while it runs: runs done, running and left, and an ETA.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace lpsim::sweep {

struct ProgressSnapshot {
  struct Running {
    std::string id;
    double fraction = 0;  // of its steps
    double seconds = 0;   // since it started
  };
  std::size_t total = 0;   // runs of this process
  std::size_t done = 0;    // finished or failed, kept ones included
  std::size_t failed = 0;  // of done
  std::vector<Running> running;
  std::vector<double> finished_seconds;  // of the runs finished in this invocation
  int jobs = 1;
};

// Seconds until every run is done: the runs left and the rest of the running ones, at the mean
// time of the runs finished so far (before any finishes, as the running ones extrapolate), shared
// among the jobs. Negative when there is nothing to go by yet.
double eta_seconds(const ProgressSnapshot& s);

// "runs 3/12 done, 2 running (0004 45%, 0005 10%), 7 left, ETA 4:12" (", 1 failed" after done).
std::string progress_text(const ProgressSnapshot& s);

}  // namespace lpsim::sweep
