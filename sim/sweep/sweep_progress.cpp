#include "sim/sweep/sweep_progress.hpp"

#include <algorithm>
#include <numeric>

#include "sim/train/progress.hpp"

namespace lpsim::sweep {
namespace {

// A running run's fraction below this says too little about its total time.
constexpr double kMinimumFraction = 0.05;

}  // namespace

double eta_seconds(const ProgressSnapshot& s) {
  double per_run = -1;
  if (!s.finished_seconds.empty()) {
    per_run = std::accumulate(s.finished_seconds.begin(), s.finished_seconds.end(), 0.0) /
              double(s.finished_seconds.size());
  } else {
    double sum = 0;
    int count = 0;
    for (const auto& r : s.running)
      if (r.fraction >= kMinimumFraction) {
        sum += r.seconds / r.fraction;
        ++count;
      }
    if (count > 0) per_run = sum / count;
  }
  if (per_run < 0) return -1;
  const std::size_t left = s.total - s.done - s.running.size();
  double work = double(left) * per_run;
  for (const auto& r : s.running) work += std::max(0.0, per_run * (1 - r.fraction));
  return work / double(std::max(1, s.jobs));
}

std::string progress_text(const ProgressSnapshot& s) {
  std::string text = "runs " + std::to_string(s.done) + "/" + std::to_string(s.total) + " done";
  if (s.failed > 0) text += ", " + std::to_string(s.failed) + " failed";
  text += ", " + std::to_string(s.running.size()) + " running";
  if (!s.running.empty()) {
    text += " (";
    for (std::size_t i = 0; i < s.running.size(); ++i)
      text += (i > 0 ? ", " : "") + s.running[i].id +
              train::printf_text(" %.0f%%", 100 * s.running[i].fraction);
    text += ")";
  }
  text += ", " + std::to_string(s.total - s.done - s.running.size()) + " left";
  const double eta = eta_seconds(s);
  text += ", ETA " + (eta < 0 ? std::string("?") : train::clock_text(eta));
  return text;
}

}  // namespace lpsim::sweep
