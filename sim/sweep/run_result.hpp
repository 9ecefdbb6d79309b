// What a finished run's trace says: its final metrics, the conversion counts over all its tensor
// rows, and who ran it. A trace counts only when it finished (/summary has `finished`) and was
// written for the run's configuration, so that a resumed sweep never keeps another run's trace.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "sim/train/config.hpp"

namespace lpsim::sweep {

// The /config labels a sweep adds to each run's trace.
inline constexpr std::string_view kRunLabel = "sweep.run", kRankLabel = "sweep.rank",
                                  kHostLabel = "sweep.host";

struct RunResult {
  double test_accuracy = 0, test_loss = 0;
  std::int64_t steps = 0, skipped_steps = 0;
  double final_loss_scale = 1, images_per_second = 0, train_seconds = 0, seconds = 0;
  // Totals of the count columns over every row of every /tensors group.
  std::int64_t overflow = 0, saturated = 0, wrapped = 0, underflow = 0, flushed_to_zero = 0,
               nan = 0;
  std::string rank, host;  // the labels above; empty when absent
};

// The result in `trace` when it is a finished trace of `config` (its fields, seed and the
// scheme's resolved options equal those in /config; labels are not compared); nullopt when the
// trace is missing, unfinished or another configuration's. Throws traces::TraceError when the
// file exists but cannot be read.
std::optional<RunResult> finished_result(const std::filesystem::path& trace,
                                         const train::TrainConfig& config);

}  // namespace lpsim::sweep
