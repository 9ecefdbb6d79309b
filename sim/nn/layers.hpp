// The layers: containers (Sequential, Residual) and the leaves a scheme plans.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/nn/layer.hpp"

namespace lpsim::nn {

// Layers in a chain. Each child's input is converted to the child's (A, forward) representation
// and kept for its backward; each child's output gradient to its (E, backward) representation.
// Empty: the identity.
class Sequential final : public Layer {
 public:
  explicit Sequential(std::string name) : Layer(std::move(name), LayerKind::sequential) {}
  Layer& add(std::unique_ptr<Layer> layer);
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }

  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
  void collect_parameters(std::vector<Parameter*>& out) override;
  void collect_leaves(std::vector<Layer*>& out) override;

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<QTensor> inputs_;  // inputs_[i]: child i's input as it read it
  QTensor grads_[2];             // the gradients between children, alternately
};

// y = main(x) + shortcut(x) (an empty shortcut is the identity): a ResNet block's addition.
class Residual final : public Layer {
 public:
  Residual(std::string name, std::unique_ptr<Sequential> main,
           std::unique_ptr<Sequential> shortcut);
  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
  void collect_parameters(std::vector<Parameter*>& out) override;
  void collect_leaves(std::vector<Layer*>& out) override;

 private:
  std::unique_ptr<Sequential> main_, shortcut_;
  Tensor shortcut_out_;
  QTensor shortcut_dy_;
};

// A 2-D convolution (square kernel, zero padding) or, constructed by `linear`, a fully connected
// layer (1 x 1 inputs). Weights K x C x R x S, optional bias K. Its three GEMMs run on the plan's
// engine with the weights in the (W, forward) representation (backward-data: (W, backward));
// the weight and bias gradients are converted to (G, backward).
class Conv2d final : public Layer {
 public:
  Conv2d(std::string name, int in_channels, int out_channels, int kernel, int stride, int pad,
         bool bias);
  static std::unique_ptr<Conv2d> linear(std::string name, int in_features, int out_features);

  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
  void collect_parameters(std::vector<Parameter*>& out) override;

  Parameter weight, bias;  // bias is empty without one
  int fan_in() const { return in_channels_ * kernel_ * kernel_; }
  int in_channels() const { return in_channels_; }
  int out_channels() const { return out_channels_; }
  int kernel() const { return kernel_; }
  int stride() const { return stride_; }
  int pad() const { return pad_; }

 private:
  Conv2d(std::string name, LayerKind kind, int in_channels, int out_channels, int kernel,
         int stride, int pad, bool bias);
  ConvGeometry geometry(const Dims& input) const;

  int in_channels_, out_channels_, kernel_, stride_, pad_;
  QTensor weights_forward_, weights_backward_,
      bias_used_;  // as the GEMMs and the bias add read them
};

// Batch normalisation over N, H, W per channel, computed in fp32 with double sums. gamma,
// beta, the mean and std = sqrt(var + eps) it normalises with and x-hat take the (BN, forward)
// representation (parts "gamma", "beta", "mean", "std", "xhat"); 1/std is rounded once to fp32
// from the exact std unless the conversion changed the std. The backward pass uses the
// converted statistics and gamma; x-hat's conversion is straight-through. Running statistics
// (momentum 0.1, unbiased variance, as PyTorch) normalise in evaluation.
class BatchNorm2d final : public Layer {
 public:
  BatchNorm2d(std::string name, int channels, float eps = 1e-5f, float momentum = 0.1f);
  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
  void collect_parameters(std::vector<Parameter*>& out) override;

  Parameter gamma, beta;
  std::vector<float> running_mean, running_var;

 private:
  int channels_;
  float eps_, momentum_;
  std::vector<float> mean_, inv_std_;  // of the last training batch
  QTensor gamma_used_, beta_used_;
  Tensor xhat_;  // x-hat as converted (training), for gamma's gradient
};

class ReLU final : public Layer {
 public:
  explicit ReLU(std::string name) : Layer(std::move(name), LayerKind::relu) {}
  Dims output_dims(const Dims& input) const override { return input; }
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
};

// Max over k x k windows moved by `stride` (no padding; the first maximum of a window wins).
class MaxPool2d final : public Layer {
 public:
  MaxPool2d(std::string name, int kernel, int stride);
  int kernel() const { return kernel_; }
  int stride() const { return stride_; }
  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;

 private:
  int kernel_, stride_;
  std::vector<std::int32_t> argmax_;  // per output: the index of its maximum in the input plane
};

// Mean over k x k windows moved by `stride` (no padding); global pooling when k is the input size.
class AvgPool2d final : public Layer {
 public:
  AvgPool2d(std::string name, int kernel, int stride);
  Dims output_dims(const Dims& input) const override;
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;

 private:
  int kernel_, stride_;
};

// Inverted dropout in training (kept values scaled by 1/(1-p)); the identity in evaluation. The
// mask is a function of (seed, layer name, step, element), so it is the same with any threads.
class Dropout final : public Layer {
 public:
  Dropout(std::string name, float p);
  float p() const { return p_; }
  Dims output_dims(const Dims& input) const override { return input; }
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;

 private:
  float p_;
  std::vector<std::uint8_t> keep_;
};

// N x C x H x W -> N x CHW x 1 x 1.
class Flatten final : public Layer {
 public:
  explicit Flatten(std::string name) : Layer(std::move(name), LayerKind::flatten) {}
  Dims output_dims(const Dims& input) const override { return {input.n, input.sample(), 1, 1}; }
  void forward(const QTensor& x, Tensor& y, Pass& pass) override;
  void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) override;
};

}  // namespace lpsim::nn
