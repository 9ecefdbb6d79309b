// SGD with momentum and weight decay on the fp32 master weights, and learning-rate schedules.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sim/nn/layer.hpp"

namespace lpsim::nn {

class ThreadPool;

struct SgdOptions {
  float momentum = 0.9f;
  float weight_decay = 0.0f;  // applied to every parameter, as PyTorch's SGD without groups
};

// PyTorch's SGD, in fp32 element by element:
//   g = grad * grad_multiplier + weight_decay * w;  v = momentum * v + g;  w = w - lr * v.
// grad_multiplier undoes a loss scale (1/S). Velocities start at zero (sized on first use).
void sgd_step(std::span<Parameter* const> params, const SgdOptions& options, float lr,
              float grad_multiplier, ThreadPool& pool);

// What one update knows.
struct UpdateContext {
  ThreadPool& pool;
  float lr = 0;               // the schedule's learning rate of this step
  float grad_multiplier = 1;  // undoes the loss scale (1/S)
  std::uint64_t step = 0, epoch = 0;
  std::uint64_t total_steps = 0;  // the run's optimizer steps
  Recorder* recorder = nullptr;   // set in the steps whose tensors are recorded
};

// Updates the master weights from their gradients once per step. SGD unless a scheme brings its
// own (a quantized momentum, a learning-rate grid).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string describe() const = 0;  // for /config
  // Extra tensor columns it records (role U rows through the context's recorder).
  virtual std::vector<StatColumn> columns() const { return {}; }
  // Called once before the first step, with the initial master weights (a scheme may store them
  // on its grid).
  virtual void start(std::span<Parameter* const> params) { (void)params; }
  virtual void update(std::span<Parameter* const> params, const UpdateContext& context) = 0;
};

// sgd_step as an Optimizer ("sgd:momentum=0.9:weight_decay=0.0005").
std::unique_ptr<Optimizer> make_sgd(const SgdOptions& options);

// Whether every gradient element is finite (the overflow check of loss scaling).
bool gradients_finite(std::span<Parameter* const> params, ThreadPool& pool);

enum class ScheduleKind : std::uint8_t { constant, step, cosine };
std::string_view to_string(ScheduleKind k);
bool parse_schedule(std::string_view name, ScheduleKind& out);

struct Schedule {
  ScheduleKind kind = ScheduleKind::cosine;
  double base_lr = 0.1;
  double gamma = 0.1;            // step: factor at each boundary
  std::int64_t step_epochs = 1;  // step: epochs between boundaries
  std::int64_t steps_per_epoch = 1;
  std::int64_t total_steps = 1;

  // The learning rate of step `step` (0-based):
  //   constant: base;  step: base * gamma^floor(epoch / step_epochs);
  //   cosine: base * (1 + cos(pi * step / total_steps)) / 2.
  double at(std::int64_t step) const;
};

}  // namespace lpsim::nn
