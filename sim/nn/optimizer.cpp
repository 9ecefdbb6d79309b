#include "sim/nn/optimizer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>
#include <sstream>

#include "sim/nn/thread_pool.hpp"

namespace lpsim::nn {

void sgd_step(std::span<Parameter* const> params, const SgdOptions& o, float lr,
              float grad_multiplier, ThreadPool& pool) {
  for (Parameter* p : params) {
    if (p->velocity.size() != p->value.size()) {
      p->velocity.resize(p->value.dims);
      std::fill(p->velocity.data.begin(), p->velocity.data.end(), 0.0f);
    }
    float* w = p->value.data.data();
    float* v = p->velocity.data.data();
    const float* g = p->grad.data.data();
    parallel_chunks(pool, p->value.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        const float d = g[i] * grad_multiplier + o.weight_decay * w[i];
        v[i] = o.momentum * v[i] + d;
        w[i] = w[i] - lr * v[i];
      }
    });
  }
}

namespace {

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& options) : options_(options) {}
  std::string describe() const override {
    return "sgd:momentum=" + format_number(options_.momentum) +
           ":weight_decay=" + format_number(options_.weight_decay);
  }
  void update(std::span<Parameter* const> params, const UpdateContext& c) override {
    sgd_step(params, options_, c.lr, c.grad_multiplier, c.pool);
  }

 private:
  static std::string format_number(float v) {
    std::ostringstream text;
    text << v;
    return text.str();
  }
  SgdOptions options_;
};

}  // namespace

std::unique_ptr<Optimizer> make_sgd(const SgdOptions& options) {
  return std::make_unique<Sgd>(options);
}

bool gradients_finite(std::span<Parameter* const> params, ThreadPool& pool) {
  std::atomic<bool> finite = true;
  for (const Parameter* p : params)
    parallel_chunks(pool, p->grad.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i)
        if (!std::isfinite(p->grad.data[i])) {
          finite = false;
          return;
        }
    });
  return finite;
}

std::string_view to_string(ScheduleKind k) {
  switch (k) {
    case ScheduleKind::constant:
      return "constant";
    case ScheduleKind::step:
      return "step";
    case ScheduleKind::cosine:
      return "cosine";
  }
  return "?";
}

bool parse_schedule(std::string_view name, ScheduleKind& out) {
  for (ScheduleKind k : {ScheduleKind::constant, ScheduleKind::step, ScheduleKind::cosine})
    if (name == to_string(k)) {
      out = k;
      return true;
    }
  return false;
}

double Schedule::at(std::int64_t step) const {
  switch (kind) {
    case ScheduleKind::constant:
      return base_lr;
    case ScheduleKind::step: {
      const std::int64_t epoch = step / std::max<std::int64_t>(1, steps_per_epoch);
      return base_lr * std::pow(gamma, double(epoch / std::max<std::int64_t>(1, step_epochs)));
    }
    case ScheduleKind::cosine:
      return base_lr * 0.5 *
             (1.0 + std::cos(std::numbers::pi * double(step) /
                             double(std::max<std::int64_t>(1, total_steps))));
  }
  return base_lr;
}

}  // namespace lpsim::nn
