#include "sim/schemes/wageubn/schedule.hpp"

#include <sstream>

namespace lpsim::schemes::wageubn {

int Schedule::phase(std::uint64_t step, std::uint64_t total_steps) {
  constexpr std::uint64_t kPercent[] = {30, 60, 80, 90};
  int phase = 0;
  for (std::uint64_t percent : kPercent) phase += step > total_steps * percent / 100;
  return total_steps > 0 ? phase : 0;
}

float Schedule::g_scale(std::uint64_t step, std::uint64_t total_steps) const {
  constexpr float kGScale[] = {128, 128, 32, 8, 2};
  return g_scale_ > 0 ? g_scale_ : kGScale[phase(step, total_steps)];
}

double Schedule::lr_factor(std::uint64_t step, std::uint64_t total_steps) const {
  constexpr double kFactor[] = {1, 0.12, 0.06, 0.03, 0.03};
  return paper_lr_ ? kFactor[phase(step, total_steps)] : 1.0;
}

std::string Schedule::g_scale_text() const {
  if (g_scale_ == 0) return "schedule";
  std::ostringstream text;
  text << g_scale_;
  return text.str();
}

}  // namespace lpsim::schemes::wageubn
