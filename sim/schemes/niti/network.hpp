// NITI's integer network (SCHEMES.md §2 "Training algorithm", niti/ti_torch.py), built from the
// leaf layers of an nn::Model: int8 tensors with one exponent each (value = code * 2^exponent),
// int32 products (int_gemm.hpp), and per layer
//   conv / linear  forward: acc = x * W; act_calc: b = RangeEstimate(acc), shift = b - 7; shift >
//   0:
//                  y = int8_clip(ROUND(acc, shift)), e_y = e_x + e_W + shift; else y = acc cast to
//                  int8 (wrapping), e_y = e_x + e_W. backward (before the update): the input's
//                  error by err_calc (the same rule) of dy * W^T, e_dx = e_dy + shift + e_W (not
//                  for the first GEMM layer: NITI skips it); g32 = x^T * dy; grad_calc: b =
//                  RangeEstimate(g32), shift = b - mu; shift < 1: g = g32 cast to int8, else g =
//                  int8_clip(PstoShift(g32, shift)); W = int8_clip(W - g). The weights' exponent
//                  never changes. Biases: NITI has none, the model's are not used.
//   ReLU           y = max(x, 0); dx = dy where x > 0, else 0
//   MaxPool2d      the first maximum of each window (cuDNN's tie rule is not documented); the
//                  error goes to it. Overlapping windows are rejected.
//   Flatten        a reshape
//   Dropout        training: one {0, 1} mask per feature shared by the batch, exponent + 1 (keep
//                  probability 1/2, NITI's randint(0, 2)); evaluation: the identity
// ROUND is RoundShift (variant head) or PstoShift (variant 2020, where a shift of 1 becomes 2).
// Batch norm, residual blocks and average pooling have no NITI counterpart: the constructor
// rejects them.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "formats/accumulator.hpp"
#include "formats/rounding.hpp"
#include "sim/nn/models.hpp"
#include "sim/schemes/niti/int_gemm.hpp"
#include "sim/schemes/niti/rounding.hpp"

namespace lpsim::schemes::niti {

// value = codes[i] * 2^exponent
struct IntTensor {
  nn::Dims dims;
  std::vector<std::int8_t> codes;
  int exponent = 0;
};

enum class ShiftRounding : std::uint8_t { round_shift, psto_shift, sto_shift };

// How int32 values lose the bits shifted out.
struct ShiftRule {
  ShiftRounding rounding = ShiftRounding::round_shift;
  Division division = Division::trunc;
  RoundingSpec random{};  // sto_shift: element i draws stochastic_random(random, first_index + i)
  std::uint64_t first_index = 0;
};

struct NetworkOptions {
  ShiftRounding rounding = ShiftRounding::round_shift;  // act_calc and err_calc
  bool widen_single_shift = false;                      // 2020: a shift of 1 becomes 2
  Division division = Division::trunc;
  AccumulatorSpec conv_acc, linear_acc;
};

// One int32 -> int8 conversion (act_calc, err_calc, grad_calc, the loss error) and the product
// that made its int32 values.
struct Requantization {
  std::int64_t elements = 0;
  std::uint32_t max_magnitude = 0;   // max |acc| as RangeEstimate sees it
  int bits = 0;                      // RangeEstimate: ceil(log2 fp32(max |acc|))
  int shift = 0;                     // bits shifted out (0: cast)
  int source_exponent = 0;           // acc's units: value = acc * 2^source_exponent
  int exponent = 0;                  // the int8 result's
  std::int64_t clipped = 0;          // int8_clip clamped the rounded value to +-127
  std::int64_t wrapped = 0;          // the cast to int8 changed the value (128 -> -128)
  std::int64_t inexact = 0;          // nonzero bits shifted out
  std::int64_t flushed_to_zero = 0;  // nonzero acc, zero code
  std::int64_t zero = 0;             // zero codes
  AccumulationStats products;
};

// The weight update of one layer.
struct UpdateStats {
  std::int64_t elements = 0;
  std::int64_t changed = 0;  // g != 0
  std::int64_t clipped = 0;  // W - g clamped to +-127
  std::int64_t pinned = 0;   // |W| = 127 after the update
  int max_magnitude = 0;     // max |W| after the update
};

// What one conv or linear layer did in the last step.
struct GemmReport {
  std::string layer;
  int weight_exponent = 0;
  Requantization activation;               // act_calc of the forward product
  std::optional<Requantization> error;     // err_calc (training, not the first GEMM layer)
  std::optional<Requantization> gradient;  // grad_calc (training)
  int mu = 0;
  UpdateStats update;
};

// The state of one pass.
struct PassState {
  nn::ThreadPool& pool;
  bool training = true;
  std::uint64_t step = 0;  // numbers the dropout masks
  std::uint64_t seed = 0;
  int mu = 0;  // the gradient bit width of this step
};

// One layer of the integer network.
class IntLayer {
 public:
  explicit IntLayer(std::string name) : name_(std::move(name)) {}
  virtual ~IntLayer() = default;
  IntLayer(const IntLayer&) = delete;
  IntLayer& operator=(const IntLayer&) = delete;
  const std::string& name() const { return name_; }
  virtual void forward(const IntTensor& x, IntTensor& y, const PassState& state) = 0;
  // x: the input of the last forward; dy: the output's error; dx: the input's error, null when
  // nothing needs it.
  virtual void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx,
                        const PassState& state) = 0;

 private:
  std::string name_;
};

// The integer counterpart of one of a model's leaf layers; throws std::invalid_argument (one line,
// naming `model`) for a kind NITI's network has not (batch norm, average pooling) and for
// overlapping max pooling.
std::unique_ptr<IntLayer> make_layer(const nn::Layer& layer, const nn::Model& model,
                                     const NetworkOptions& options);

class Network {
 public:
  // Throws std::invalid_argument (one line) for a model NITI's network cannot hold.
  Network(const nn::Model& model, const NetworkOptions& options);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // The logits (N x classes x 1 x 1) of an int8 input batch.
  const IntTensor& forward(IntTensor input, const PassState& state);
  // Back-propagates the logits' error through every layer, updating each layer's weights after
  // it computed its input's error (the last forward must have been a training pass).
  void backward(IntTensor logits_error, const PassState& state);

  // One per conv and linear layer, in forward order, as the last pass left them.
  std::vector<GemmReport> reports() const;
  // "scheme.<layer>.<what>" -> the layer's NITI representation, for /config.
  std::vector<std::pair<std::string, std::string>> config() const;
  // The int8 weights of each conv and linear layer (K x C x R x S), in forward order.
  std::vector<const std::vector<std::int8_t>*> weights() const;

 private:
  std::vector<std::unique_ptr<IntLayer>> layers_;
  std::size_t first_gemm_ = 0;          // the first layer that back-propagates no input error
  std::vector<IntTensor> activations_;  // activations_[i]: layer i's input; back(): the logits
  IntTensor errors_[2];
};

// out = int8_clip(ROUND(acc, shift)) for shift >= 1, else acc cast to int8 (wrapping). Fills
// everything but the exponents and products.
Requantization shift_to_int8(std::span<const std::int32_t> acc, std::span<std::int8_t> out,
                             int shift, const ShiftRule& rule, nn::ThreadPool& pool);
// act_calc / err_calc (target_bits 7) and grad_calc (target_bits mu): shift = range_bits(max |acc|)
// - target_bits (under `widen_single_shift` a shift of 1 becomes 2), then shift_to_int8.
Requantization requantize(std::span<const std::int32_t> acc, std::span<std::int8_t> out,
                          int target_bits, bool widen_single_shift, const ShiftRule& rule,
                          nn::ThreadPool& pool);

}  // namespace lpsim::schemes::niti
