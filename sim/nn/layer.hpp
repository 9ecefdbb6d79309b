// The layer interface: forward and backward on tensors already in the scheme's representation,
// a plan saying which representation each of the layer's tensors takes, and the parameters.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/nn/engine.hpp"
#include "sim/nn/quant.hpp"
#include "sim/nn/tensor.hpp"

namespace lpsim::nn {

class ThreadPool;

enum class LayerKind : std::uint8_t {
  linear,
  conv,
  batchnorm,
  relu,
  maxpool,
  avgpool,
  dropout,
  flatten,
  residual,
  sequential
};
std::string_view to_string(LayerKind k);

// A (role, direction) a layer converts tensors at.
struct QuantPoint {
  Role role;
  Direction direction;
};
// The points each kind of layer converts at (containers: none): GEMM layers (A, forward),
// (W, forward), (W, backward), (E, backward), (G, backward); batch norm (A, forward),
// (BN, forward), (E, backward), (G, backward); the others (A, forward), (E, backward).
std::span<const QuantPoint> quant_points(LayerKind kind);

// A trained tensor: the fp32 master copy, its gradient and its SGD momentum.
struct Parameter {
  std::string name;  // "<layer>.weight", "<layer>.bias", "<layer>.gamma", "<layer>.beta"
  Tensor value;
  Tensor grad;      // as the last backward left it, in the scheme's G representation
  Tensor velocity;  // zero-initialised by the optimizer
  bool batchnorm = false;
};

// What a scheme decided for one layer: the representation of each (role, direction), fp32 unless
// set, and the engine of its GEMMs (conv and linear layers).
struct LayerPlan {
  std::array<QuantSpec, kRoleCount * kDirectionCount> specs{};
  std::shared_ptr<const GemmEngine> engine = openblas_engine();

  const QuantSpec& spec(Role r, Direction d) const {
    return specs[std::size_t(r) * kDirectionCount + std::size_t(d)];
  }
  QuantSpec& spec(Role r, Direction d) {
    return specs[std::size_t(r) * kDirectionCount + std::size_t(d)];
  }
};

// Receives what every conversion of a recorded step saw and did. `role` is the role's letter,
// with ".backward"/".forward" when the direction is not the role's usual one (W, A, BN: forward;
// G, E, U: backward) and ".<part>" for a layer's second tensor of a role ("G.bias").
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(const std::string& layer, const std::string& role,
                      const TensorStats& stats) = 0;
};

// One forward/backward pass.
struct Pass {
  ThreadPool& pool;
  bool training = true;
  std::uint64_t step = 0;        // numbers dropout masks and stochastic-rounding draws
  std::uint64_t epoch = 0;       // for schemes whose quantizers follow an epoch schedule
  std::uint64_t total_steps = 0;  // the run's optimizer steps (0: unknown, as in evaluation)
  std::uint64_t seed = 0;        // the run's seed
  Recorder* recorder = nullptr;  // set in the steps whose conversions are recorded
};

class Layer {
 public:
  Layer(std::string name, LayerKind kind) : name_(std::move(name)), kind_(kind) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  LayerKind kind() const { return kind_; }

  // The output's dimensions for an input of dimensions `input` (std::invalid_argument when the
  // layer cannot take it).
  virtual Dims output_dims(const Dims& input) const = 0;
  // y = layer(x). x is already in the plan's (A, forward) representation.
  virtual void forward(const QTensor& x, Tensor& y, Pass& pass) = 0;
  // x: the input of the matching forward; dy: the output's gradient, already in the plan's
  // (E, backward) representation (the layer may overwrite it). Sets each parameter's grad and,
  // when dx is given, the input's gradient.
  virtual void backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) = 0;

  virtual void collect_parameters(std::vector<Parameter*>& out) { (void)out; }
  // The layers a scheme plans: the layer itself, or for containers the layers inside them.
  virtual void collect_leaves(std::vector<Layer*>& out) { out.push_back(this); }

  const LayerPlan& plan() const { return plan_; }
  void set_plan(LayerPlan plan) { plan_ = std::move(plan); }

  // Converts t to the plan's representation for (role, direction), recording the conversion in
  // recorded steps (every non-fp32 conversion, and every tensor of conv and linear layers).
  void convert(Role role, Direction direction, QTensor& t, Pass& pass,
               std::string_view part = {}) const;
  // The same for a bare tensor (no codes are kept).
  void convert(Role role, Direction direction, Tensor& t, Pass& pass,
               std::string_view part = {}) const;

 private:
  std::string name_;
  LayerKind kind_;
  LayerPlan plan_;
};

// The name a conversion is recorded under (see Recorder).
std::string trace_role(Role role, Direction direction, std::string_view part = {});

}  // namespace lpsim::nn
