#include "sim/schemes/scaled/delayed_scaling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "formats/codec.hpp"
#include "formats/convert.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::schemes::scaled {

std::string_view to_string(AmaxAlgo a) { return a == AmaxAlgo::max ? "max" : "most_recent"; }
std::string_view to_string(ZeroAmax z) { return z == ZeroAmax::skip ? "skip" : "record"; }

DelayedScale::DelayedScale(const DelayedScalingRecipe& recipe, float fp8_max)
    : recipe_(recipe), scaled_max_(std::ldexp(fp8_max, -recipe.margin)) {}

void DelayedScale::update(float amax) {
  if (amax == 0 && recipe_.zero_amax == ZeroAmax::skip) return;
  history_.push_back(amax);
  if (history_.size() > std::size_t(recipe_.history)) history_.pop_front();
  const float used =
      recipe_.algo == AmaxAlgo::max ? *std::max_element(history_.begin(), history_.end()) : amax;
  if (std::isfinite(used) && used > 0) scale_ = scaled_max_ / used;
  if (std::isinf(scale_)) scale_ = std::numeric_limits<float>::max();
  scale_inv_ = 1.0f / scale_;
}

namespace {

// Fixed chunks, so the split never depends on the thread count.
constexpr std::size_t kChunk = std::size_t{1} << 15;

}  // namespace

Fp8Cast cast_to_fp8(const FloatFormat& fp8, std::span<float> x, float scale, float scale_inv,
                    const ConvertPolicy& policy, std::uint64_t first_index, nn::ThreadPool& pool) {
  const std::size_t chunks = (x.size() + kChunk - 1) / kChunk;
  std::vector<Fp8Cast> parts(chunks);
  pool.parallel_for(chunks, [&](std::size_t c) {
    const std::size_t begin = c * kChunk;
    const std::span<float> part = x.subspan(begin, std::min(kChunk, x.size() - begin));
    Fp8Cast& r = parts[c];
    for (float& v : part) {
      const float a = std::fabs(v);
      r.amax = a > r.amax ? a : r.amax;  // NaN compares false: ignored, as fmaxf does
      r.max_abs = a > r.max_abs && a != INFINITY ? a : r.max_abs;
      v *= scale;
    }
    r.counts = quantize_f32(fp8, part, part, policy, first_index + begin);
    for (float& v : part) v *= scale_inv;
  });
  Fp8Cast total;
  for (const Fp8Cast& r : parts) {
    total.amax = std::fmax(total.amax, r.amax);
    total.max_abs = std::fmax(total.max_abs, r.max_abs);
    total.counts += r.counts;
  }
  return total;
}

Fp8DelayedQuantizer::Fp8DelayedQuantizer(FloatFormat fp8, const DelayedScalingRecipe& recipe,
                                         ConvertPolicy policy)
    : fp8_(fp8), policy_(policy), scale_(recipe, float(to_double(fp8, fp8.max_finite_code()))) {}

std::string Fp8DelayedQuantizer::describe() const {
  const DelayedScalingRecipe& recipe = scale_.recipe();
  return "fp8-delayed:" + std::string(preset_name(fp8_)) + ":" +
         std::string(lpsim::to_string(policy_.rounding.mode)) + ":" +
         std::string(lpsim::to_string(policy_.overflow)) +
         ":history=" + std::to_string(recipe.history) + ":" + std::string(to_string(recipe.algo)) +
         ":margin=" + std::to_string(recipe.margin) +
         ":zero-amax=" + std::string(to_string(recipe.zero_amax));
}

std::vector<nn::StatColumn> Fp8DelayedQuantizer::columns() const {
  return {{"fp8_amax", "1",
           "Largest |x| of the tensor in this step (NaN ignored, inf kept), as recorded into the "
           "delayed-scaling amax history"},
          {"fp8_scale", "1",
           "The scale the tensor was multiplied by before its FP8 cast (from earlier steps' "
           "amaxes)"}};
}

void Fp8DelayedQuantizer::apply(nn::QTensor& t, const nn::QuantContext& context,
                                nn::TensorStats* stats) {
  if (!context.part.empty()) {  // biases: fp32
    if (stats) {
      stats->max_abs = nn::finite_max_abs(t.values.span());
      stats->counts = nn::fp32_counts(t.values.span());
    }
    return;
  }
  if (pending_ && (!context.training || context.step != pending_step_)) {
    scale_.update(pending_amax_);
    pending_ = false;
  }
  ConvertPolicy policy = policy_;
  policy.rounding.stream = context.stream;
  const float scale = scale_.scale();
  const Fp8Cast r = cast_to_fp8(fp8_, t.values.span(), scale, scale_.scale_inv(), policy,
                                context.first_index, context.pool);
  if (context.training) {
    pending_amax_ = pending_ ? std::fmax(pending_amax_, r.amax) : r.amax;
    pending_ = true;
    pending_step_ = context.step;
  }
  if (stats) {
    stats->max_abs = r.max_abs;
    stats->counts = r.counts;
    stats->extras = {{"fp8_amax", double(r.amax)}, {"fp8_scale", double(scale)}};
  }
}

}  // namespace lpsim::schemes::scaled
