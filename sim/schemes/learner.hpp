// A Learner is what one training step does: forward, loss, backward, update. lpsim's float
// learner (sim/train/float_learner.hpp) runs every scheme that plans the layers of nn::Model with
// fp32 master weights; a scheme whose arithmetic does not fit that mould -- NITI's integer-only
// network, integer loss and integer update -- brings its own through Scheme::learner().
// The trainer owns the epochs, batches, schedule, evaluation loop and the trace.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/nn/layer.hpp"
#include "sim/nn/loss.hpp"
#include "sim/nn/tensor.hpp"

namespace lpsim::schemes {

using ConfigEntries = std::vector<std::pair<std::string, std::string>>;

struct StepContext {
  nn::ThreadPool& pool;
  std::uint64_t step = 0, epoch = 0;  // 0-based
  std::uint64_t total_steps = 0;      // the run's optimizer steps
  double lr = 0;                      // the configured schedule's learning rate for this step
  std::uint64_t seed = 0;             // the run's seed
  nn::Recorder* recorder = nullptr;   // set in the steps whose tensors are recorded
};

struct StepOutcome {
  nn::LossResult loss;      // of the batch, before any loss scaling
  bool skipped = false;     // the update was skipped (loss-scale overflow)
  double loss_scale = 1;    // the loss scale the step used
  double lr = 0;            // the learning rate the update used
  nn::StatValues extras;    // values of step_columns()
};

class Learner {
 public:
  virtual ~Learner() = default;
  // /config entries: every per-layer choice ("scheme.<layer>.<role>" -> representation).
  virtual ConfigEntries config() const = 0;
  // Extra columns of /steps and of the tensor groups this learner fills.
  virtual std::vector<nn::StatColumn> step_columns() const { return {}; }
  virtual std::vector<nn::StatColumn> tensor_columns() const { return {}; }
  // One step on a batch (images N x C x H x W, floats as the data set gives them).
  virtual StepOutcome train_step(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                                 const StepContext& context) = 0;
  // The loss scale the next step will use (1 without loss scaling).
  virtual double loss_scale() const { return 1; }
  // Loss and correct count of the current weights on a batch (evaluation mode).
  virtual nn::LossResult evaluate(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                                  nn::ThreadPool& pool, std::uint64_t step) = 0;
};

}  // namespace lpsim::schemes
