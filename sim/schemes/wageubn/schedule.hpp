// WAGEUBN's step schedules (the code's imagenet_main.py): piecewise constant with boundaries at
// epochs 30, 60, 80 and 90 of 100, here at 30/60/80/90 % of the run's steps. As
// tf.train.piecewise_constant, step s is in phase #{boundaries b : s > b}, b = floor(steps * f).
//   g_scale     128, 128, 32, 8, 2 (or a constant)
//   lr factor   1, 0.12, 0.06, 0.03, 0.03 times the run's learning rate (or 1: the run's schedule)
#pragma once
#include <cstdint>
#include <string>

namespace lpsim::schemes::wageubn {

class Schedule {
 public:
  // g_scale: 0 follows the schedule, otherwise that constant. paper_lr: the piecewise factors.
  Schedule(float g_scale, bool paper_lr) : g_scale_(g_scale), paper_lr_(paper_lr) {}

  // Of step `step` of a run of `total_steps` (0: unknown, every step is in phase 0).
  static int phase(std::uint64_t step, std::uint64_t total_steps);  // 0..4
  float g_scale(std::uint64_t step, std::uint64_t total_steps) const;
  double lr_factor(std::uint64_t step, std::uint64_t total_steps) const;

  std::string g_scale_text() const;  // "schedule" or the constant
  bool paper_lr() const { return paper_lr_; }

 private:
  float g_scale_;
  bool paper_lr_;
};

}  // namespace lpsim::schemes::wageubn
