// What `lpsim train` prints while it runs. On a terminal: one status line redrawn in place (a bar,
// steps, epoch, loss, accuracy, images/s, ETA) at most 10 times a second. Piped: a plain line four
// times an epoch. Always: a line at the end of each epoch, and the final line.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "sim/train/trainer.hpp"

namespace lpsim::train {

// A status line redrawn in place on a terminal, at most 10 times a second.
class StatusLine {
 public:
  static constexpr std::chrono::milliseconds kInterval{100};

  explicit StatusLine(std::ostream& out) : out_(out) {}
  // Whether a redraw is due: always when `force`, else 100 ms after the last one.
  bool due(bool force = false) const;
  void draw(const std::string& text);
  // Erases the line, so that a plain line can follow.
  void clear();

 private:
  std::ostream& out_;
  std::chrono::steady_clock::time_point last_draw_{};
};

class ProgressPrinter final : public TrainObserver {
 public:
  ProgressPrinter(std::ostream& out, bool terminal)
      : out_(out), terminal_(terminal), status_(out) {}
  void on_step(const StepReport& r) override;
  void on_epoch(const EpochReport& r) override;

 private:
  std::ostream& out_;
  bool terminal_;
  StatusLine status_;
  double window_loss_ = 0, window_accuracy_ = 0;  // sums since the last line
  std::int64_t window_steps_ = 0;
};

// "final: test_accuracy=0.9123 test_loss=0.2500 steps=4690 seconds=38.2 images_per_second=7850"
std::string final_line(const TrainResult& r);

// snprintf into a string (at most 255 characters).
std::string printf_text(const char* format, ...) __attribute__((format(printf, 1, 2)));

// "1:02:03" or "2:03"
std::string clock_text(double seconds);

}  // namespace lpsim::train
