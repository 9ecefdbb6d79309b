// The training loop: a model under a scheme, SGD on fp32 master weights, loss scaling, test
// evaluation after every epoch, and one HDF5 trace per run (traces/SCHEMA.md):
//   /config   config_entries(), the scheme's options ("scheme_option.<key>") and every per-layer
//             choice of apply_scheme(); the seed
//   /steps    every step: loss, accuracy (of the training batch), learning rate, loss scale (the
//             one the step used), skipped; extra columns test_loss and test_accuracy (on each
//             epoch's last step) and loss_scale_tracker (the scaler's growth counter)
//   /tensors/<layer>/<role>  every record_every-th step, each conversion (Layer::convert), the
//             logits ("logits"/"A") and each parameter's update (role "U"), or what the
//             scheme's own learner records
//   /summary  test_accuracy, test_loss, steps, skipped_steps, final_loss_scale, seconds,
//             train_seconds, images_per_second, threads
// Results -- weights, every trace column -- are the same bits for any thread count.
#pragma once
#include <cstdint>
#include <memory>

#include "sim/data/dataset.hpp"
#include "sim/nn/models.hpp"
#include "sim/schemes/scheme.hpp"
#include "sim/train/config.hpp"

namespace lpsim::train {

struct TrainResult {
  double test_accuracy = 0, test_loss = 0;
  std::int64_t steps = 0, skipped_steps = 0;
  double final_loss_scale = 1;
  double seconds = 0;            // the whole run, evaluations included
  double train_seconds = 0;      // the training steps alone
  double images_per_second = 0;  // training images / train_seconds
};

struct StepReport {
  std::int64_t step = 0, total_steps = 0;  // step counts from 1 here
  std::int64_t epoch = 0, epochs = 0;      // from 1
  double loss = 0, accuracy = 0, lr = 0, loss_scale = 1;
  bool skipped = false;
  std::int64_t images = 0;  // training images so far
  double train_seconds = 0;
};

struct EpochReport {
  std::int64_t epoch = 0, epochs = 0;         // from 1
  double train_loss = 0, train_accuracy = 0;  // means over the epoch's batches, by sample
  double test_loss = 0, test_accuracy = 0;
  std::int64_t skipped_steps = 0;  // in this epoch
  double loss_scale = 1;
  double seconds = 0;  // since the run started
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_step(const StepReport& report) { (void)report; }
  virtual void on_epoch(const EpochReport& report) { (void)report; }
};

class Trainer {
 public:
  // Builds the model for the data's shape and applies the scheme. Throws ConfigError for a bad
  // configuration (validate()), scheme options or a model that cannot take the data.
  Trainer(TrainConfig config, const data::Split& data);
  ~Trainer();

  // Trains, writing the trace to config.trace_path(); throws traces::TraceError when it cannot.
  TrainResult run(TrainObserver* observer = nullptr);

  const nn::Model& model() const;
  // Test loss and accuracy of the current weights (evaluation mode, the scheme's forward).
  std::pair<double, double> evaluate();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lpsim::train
