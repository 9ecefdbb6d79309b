#include "sim/train/float_learner.hpp"

#include <algorithm>

#include "sim/nn/optimizer.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::train {

namespace {

// Each step's stochastic draws for the logits start at a fresh index block, as in Layer::convert.
constexpr int kStepIndexShift = 36;

class FloatLearner final : public schemes::Learner {
 public:
  FloatLearner(const schemes::Scheme& scheme, const schemes::LearnerSettings& settings)
      : model_(settings.model),
        entries_(schemes::apply_scheme(scheme, model_, &tensor_columns_)),
        logits_spec_(scheme.logits()),
        scaler_(scheme.loss_scaling()),
        optimizer_(scheme.optimizer(settings.sgd)),
        params_(model_.parameters()) {
    optimizer_->start(params_);
    entries_.emplace_back("scheme.optimizer", optimizer_->describe());
    for (nn::StatColumn& column : optimizer_->columns()) tensor_columns_.push_back(column);
  }

  schemes::ConfigEntries config() const override { return entries_; }

  std::vector<nn::StatColumn> step_columns() const override {
    return {{"loss_scale_tracker", "step",
             "the loss scaler's growth counter after this step (0 without dynamic scaling)",
             true}};
  }
  std::vector<nn::StatColumn> tensor_columns() const override { return tensor_columns_; }

  schemes::StepOutcome train_step(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                                  const schemes::StepContext& c) override {
    nn::Pass pass{.pool = c.pool,
                  .training = true,
                  .step = c.step,
                  .epoch = c.epoch,
                  .total_steps = c.total_steps,
                  .seed = c.seed,
                  .recorder = c.recorder};
    forward(images, pass);
    schemes::StepOutcome outcome;
    outcome.loss_scale = scaler_.scale();
    outcome.lr = c.lr;
    outcome.loss = nn::softmax_cross_entropy(logits_.values, labels, &logits_grad_.values,
                                             outcome.loss_scale);
    model_.net->backward(input_, logits_grad_, nullptr, pass);
    outcome.skipped = scaler_.update(!nn::gradients_finite(params_, c.pool));
    if (!outcome.skipped)
      optimizer_->update(params_, {.pool = c.pool,
                                   .lr = float(c.lr),
                                   .grad_multiplier = float(1.0 / outcome.loss_scale),
                                   .step = c.step,
                                   .epoch = c.epoch,
                                   .total_steps = c.total_steps,
                                   .recorder = c.recorder});
    outcome.extras = {{"loss_scale_tracker", scaler_.growth_tracker()}};
    return outcome;
  }

  double loss_scale() const override { return scaler_.scale(); }

  nn::LossResult evaluate(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                          nn::ThreadPool& pool, std::uint64_t step) override {
    nn::Pass pass{.pool = pool, .training = false, .step = step};
    forward(images, pass);
    return nn::softmax_cross_entropy(logits_.values, labels);
  }

 private:
  // The forward pass up to the logits in the scheme's representation.
  void forward(const nn::Tensor& images, nn::Pass& pass) {
    input_.values.resize(images.dims);
    std::copy(images.data.begin(), images.data.end(), input_.values.data.begin());
    model_.net->forward(input_, logits_.values, pass);
    nn::TensorStats stats;
    const nn::QuantContext context{.pool = pass.pool,
                                   .step = pass.step,
                                   .epoch = pass.epoch,
                                   .total_steps = pass.total_steps,
                                   .training = pass.training,
                                   .first_index = pass.step << kStepIndexShift};
    nn::convert(logits_spec_, logits_, context, pass.recorder ? &stats : nullptr);
    if (pass.recorder) pass.recorder->record("logits", "A", stats);
  }

  nn::Model& model_;
  std::vector<nn::StatColumn> tensor_columns_;
  schemes::ConfigEntries entries_;
  nn::QuantSpec logits_spec_;
  schemes::LossScaler scaler_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::vector<nn::Parameter*> params_;
  nn::QTensor input_, logits_, logits_grad_;
};

}  // namespace

std::unique_ptr<schemes::Learner> make_float_learner(const schemes::Scheme& scheme,
                                                     const schemes::LearnerSettings& settings) {
  return std::make_unique<FloatLearner>(scheme, settings);
}

}  // namespace lpsim::train
