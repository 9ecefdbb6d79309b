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

// The update SGD applied to one parameter (role U): its largest |lr * v|, how many were zero,
// and how many were nonzero yet left the fp32 weight unchanged (below half an ulp of it: the
// vanishing updates that motivate fp32 master weights).
void record_update(const Parameter& p, std::span<const float> before, float lr,
                   Recorder& recorder) {
  TensorStats stats;
  stats.elements = std::int64_t(p.value.size());
  std::int64_t lost = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const float update = lr * p.velocity.data[i];
    stats.max_abs = std::max(stats.max_abs, double(std::fabs(update)));
    stats.counts.zero += update == 0;
    lost += update != 0 && p.value.data[i] == before[i];
  }
  stats.extras = {{"lost_updates", lost}};
  const std::size_t dot = p.name.rfind('.');
  const std::string part = p.name.substr(dot + 1);
  recorder.record(p.name.substr(0, dot), trace_role(Role::U, Direction::backward,
                                                    part == "weight" ? "" : part),
                  stats);
}

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& options) : options_(options) {}
  std::string describe() const override {
    return "sgd:momentum=" + format_number(options_.momentum) +
           ":weight_decay=" + format_number(options_.weight_decay);
  }
  std::vector<StatColumn> columns() const override {
    return {{"lost_updates", "1",
             "update elements that were nonzero but left the fp32 weight unchanged (role U)",
             true}};
  }
  void update(std::span<Parameter* const> params, const UpdateContext& c) override {
    if (!c.recorder) {
      sgd_step(params, options_, c.lr, c.grad_multiplier, c.pool);
      return;
    }
    std::vector<std::vector<float>> before;
    for (const Parameter* p : params) before.push_back(p->value.data);
    sgd_step(params, options_, c.lr, c.grad_multiplier, c.pool);
    for (std::size_t i = 0; i < params.size(); ++i)
      record_update(*params[i], before[i], c.lr, *c.recorder);
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
