#include "sim/train/progress.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ostream>

namespace lpsim::train {

namespace {

constexpr int kLinesPerEpoch = 4;
constexpr int kBarWidth = 24;

double eta_seconds(const StepReport& r) {
  return r.step > 0 ? r.train_seconds / double(r.step) * double(r.total_steps - r.step) : 0;
}

double images_per_second(const StepReport& r) {
  return r.train_seconds > 0 ? double(r.images) / r.train_seconds : 0;
}

}  // namespace

std::string printf_text(const char* format, ...) {
  char buffer[256];
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return buffer;
}

bool StatusLine::due(bool force) const {
  return force || std::chrono::steady_clock::now() - last_draw_ >= kInterval;
}

void StatusLine::draw(const std::string& text) {
  last_draw_ = std::chrono::steady_clock::now();
  out_ << "\r\x1b[K" << text << std::flush;
}

void StatusLine::clear() { out_ << "\r\x1b[K"; }

std::string clock_text(double seconds) {
  const long total = std::lround(std::max(0.0, seconds));
  const long h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? printf_text("%ld:%02ld:%02ld", h, m, s) : printf_text("%ld:%02ld", m, s);
}

void ProgressPrinter::on_step(const StepReport& r) {
  window_loss_ += r.loss;
  window_accuracy_ += r.accuracy;
  ++window_steps_;
  const std::int64_t per_epoch = r.total_steps / r.epochs;
  const double loss = window_loss_ / double(window_steps_),
               accuracy = window_accuracy_ / double(window_steps_);
  if (terminal_) {
    if (!status_.due(r.step == r.total_steps)) return;
    const auto filled = std::size_t(double(kBarWidth) * double(r.step) / double(r.total_steps));
    std::string bar(kBarWidth, '.');
    bar.replace(0, filled, filled, '#');
    status_.draw("[" + bar + "] " +
                 printf_text("%lld/%lld epoch %lld/%lld loss %.4f acc %.4f %.0f img/s ETA %s",
                             (long long)r.step, (long long)r.total_steps, (long long)r.epoch,
                             (long long)r.epochs, loss, accuracy, images_per_second(r),
                             clock_text(eta_seconds(r)).c_str()));
  } else {
    const std::int64_t interval = std::max<std::int64_t>(1, per_epoch / kLinesPerEpoch);
    const std::int64_t in_epoch = r.step - (r.epoch - 1) * per_epoch;
    if (in_epoch % interval != 0 || in_epoch == per_epoch) return;
    out_ << printf_text(
                "step %lld/%lld epoch %lld/%lld loss=%.4f accuracy=%.4f lr=%.5g loss_scale=%g "
                "images_per_second=%.0f eta=%s",
                (long long)r.step, (long long)r.total_steps, (long long)r.epoch,
                (long long)r.epochs, loss, accuracy, r.lr, r.loss_scale, images_per_second(r),
                clock_text(eta_seconds(r)).c_str())
         << '\n'
         << std::flush;
  }
  window_loss_ = window_accuracy_ = 0;
  window_steps_ = 0;
}

void ProgressPrinter::on_epoch(const EpochReport& r) {
  window_loss_ = window_accuracy_ = 0;
  window_steps_ = 0;
  if (terminal_) status_.clear();
  out_ << printf_text(
              "epoch %lld/%lld: train_loss=%.4f train_accuracy=%.4f test_loss=%.4f "
              "test_accuracy=%.4f "
              "skipped_steps=%lld loss_scale=%g seconds=%.1f",
              (long long)r.epoch, (long long)r.epochs, r.train_loss, r.train_accuracy, r.test_loss,
              r.test_accuracy, (long long)r.skipped_steps, r.loss_scale, r.seconds)
       << '\n'
       << std::flush;
}

std::string final_line(const TrainResult& r) {
  return printf_text(
      "final: test_accuracy=%.4f test_loss=%.4f steps=%lld seconds=%.1f images_per_second=%.0f",
      r.test_accuracy, r.test_loss, (long long)r.steps, r.seconds, r.images_per_second);
}

}  // namespace lpsim::train
