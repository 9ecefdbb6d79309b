// Transformer Engine's delayed scaling (recipe.DelayedScaling): a tensor is cast to FP8 as
// fp8(x * scale) with saturation and read back as fp8 * scale_inv, where the per-tensor fp32
// scale comes from the amaxes (largest |x|) of earlier steps:
//
//   after each training step: if the step's amax is 0 (zero_amax = skip, PyTorch's bulk update
//   kernel) nothing changes; else the amax enters a window of the last `history` amaxes and
//     amax_used = max over the window (algo max) or the step's amax (most_recent)
//     scale     = (fp8_max * 2^-margin) / amax_used   (fp32), kept when amax_used is 0 or inf,
//                 FLT_MAX when the division overflows
//     scale_inv = 1 / scale                           (fp32)
//   so step t casts with the scale computed from the amaxes of steps < t (the first step casts
//   with scale 1). zero_amax = record is TE's per-tensor kernel: a zero amax enters the window.
//
// TE rolls a [history] buffer whose row 0 collects the current step's amax (an atomic max over
// every cast of the step) and updates after the forward pass (A, W) and after the backward pass
// (E) of each step; either way the next step's casts see the new scale. The amax is the largest
// |x| over the tensor with NaN ignored and inf kept (fmaxf), so an inf freezes the scale for as
// long as it stays in the window. Evaluation passes cast with the current scale and record no
// amax (TE would fold evaluation amaxes into the next update; lpsim keeps evaluation from changing
// training).
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "formats/float_format.hpp"
#include "sim/nn/quant.hpp"

namespace lpsim::schemes::scaled {

enum class AmaxAlgo : std::uint8_t { max, most_recent };
enum class ZeroAmax : std::uint8_t { skip, record };

struct DelayedScalingRecipe {
  int history = 1024;  // amax_history_len
  AmaxAlgo algo = AmaxAlgo::max;
  int margin = 0;
  ZeroAmax zero_amax = ZeroAmax::skip;
};

// One tensor's scale and amax history.
class DelayedScale {
 public:
  DelayedScale(const DelayedScalingRecipe& recipe, float fp8_max);
  const DelayedScalingRecipe& recipe() const { return recipe_; }
  float scale() const { return scale_; }                         // what the next cast multiplies by
  float scale_inv() const { return scale_inv_; }                 // what it dequantizes with
  const std::deque<float>& history() const { return history_; }  // oldest first
  // TE's update after a step whose casts saw `amax`.
  void update(float amax);

 private:
  DelayedScalingRecipe recipe_;
  float scaled_max_;
  float scale_ = 1, scale_inv_ = 1;
  std::deque<float> history_;
};

// What a cast with a given scale did to a tensor.
struct Fp8Cast {
  float amax = 0;           // largest |x|, NaN ignored, inf kept (what TE records)
  float max_abs = 0;        // largest finite |x|
  ConversionCounts counts;  // of the scaled values' conversion to FP8
};

// x <- fp32(fp8(fp32(x * scale)) * scale_inv), in place, in fixed chunks over the pool (the same
// bits for any thread count); element i rounds as element first_index + i.
Fp8Cast cast_to_fp8(const FloatFormat& fp8, std::span<float> x, float scale, float scale_inv,
                    const ConvertPolicy& policy, std::uint64_t first_index, nn::ThreadPool& pool);

// The QuantSpec::custom of one (layer, role): FP8 with its own delayed scale. A layer's second
// tensor of the role (the bias) stays fp32, as TE keeps biases in higher precision.
class Fp8DelayedQuantizer final : public nn::Quantizer {
 public:
  Fp8DelayedQuantizer(FloatFormat fp8, const DelayedScalingRecipe& recipe, ConvertPolicy policy);
  std::string describe() const override;
  std::vector<nn::StatColumn> columns() const override;
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override;

  const DelayedScale& state() const { return scale_; }

 private:
  FloatFormat fp8_;
  ConvertPolicy policy_;
  DelayedScale scale_;
  // The amax of the training step in progress, folded into the scale when the next step (or an
  // evaluation) starts converting: TE's row 0 of the history.
  bool pending_ = false;
  std::uint64_t pending_step_ = 0;
  float pending_amax_ = 0;
};

std::string_view to_string(AmaxAlgo a);
std::string_view to_string(ZeroAmax z);

}  // namespace lpsim::schemes::scaled
