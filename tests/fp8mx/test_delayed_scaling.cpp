// Transformer Engine's delayed scaling: the amax-history rules on hand-made sequences (max and
// most_recent, margin, roll-over, zero and infinite amaxes, FLT_MAX for tiny amaxes), the delayed
// order of the stateful quantizer (each step casts with the scale of the steps before it,
// evaluation changes nothing), and the cast bit for bit against formats' scalar encode().
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "formats/codec.hpp"
#include "formats/float_format.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scaled/delayed_scaling.hpp"

namespace lpsim::schemes::scaled {
namespace {

constexpr float kE4m3Max = 448, kE5m2Max = 57344;

DelayedScalingRecipe recipe(int history, AmaxAlgo algo, int margin = 0,
                            ZeroAmax zero = ZeroAmax::skip) {
  return {.history = history, .algo = algo, .margin = margin, .zero_amax = zero};
}

// The scales after each update of a fresh DelayedScale fed `amaxes`.
std::vector<float> scales_after(const DelayedScalingRecipe& r, float fp8_max,
                                std::initializer_list<float> amaxes) {
  DelayedScale s(r, fp8_max);
  std::vector<float> out;
  for (float a : amaxes) {
    s.update(a);
    out.push_back(s.scale());
    EXPECT_EQ(s.scale_inv(), 1.0f / s.scale());
  }
  return out;
}

TEST(DelayedScale, StartsAtOne) {
  const DelayedScale s(recipe(16, AmaxAlgo::max), kE4m3Max);
  EXPECT_EQ(s.scale(), 1.0f);
  EXPECT_EQ(s.scale_inv(), 1.0f);
  EXPECT_TRUE(s.history().empty());
}

TEST(DelayedScale, MaxOverAWindowThatRollsOver) {
  // Window of 3: {2} {2,8} {2,8,4} {8,4,1} {4,1,0.5}
  EXPECT_EQ(scales_after(recipe(3, AmaxAlgo::max), kE4m3Max, {2, 8, 4, 1, 0.5f}),
            (std::vector<float>{448.0f / 2, 448.0f / 8, 448.0f / 8, 448.0f / 8, 448.0f / 4}));
  DelayedScale s(recipe(3, AmaxAlgo::max), kE4m3Max);
  for (float a : {2.0f, 8.0f, 4.0f, 1.0f, 0.5f}) s.update(a);
  EXPECT_EQ(s.history(), (std::deque<float>{4, 1, 0.5f}));
}

TEST(DelayedScale, MostRecentFollowsEachStep) {
  EXPECT_EQ(scales_after(recipe(3, AmaxAlgo::most_recent), kE4m3Max, {2, 8, 4, 0.3f}),
            (std::vector<float>{448.0f / 2, 448.0f / 8, 448.0f / 4, 448.0f / 0.3f}));
}

TEST(DelayedScale, MarginDividesByPowersOfTwo) {
  // (448 * 2^-2) / amax, and E5M2's 57344 * 2^-1
  EXPECT_EQ(scales_after(recipe(1, AmaxAlgo::max, 2), kE4m3Max, {3, 0.7f}),
            (std::vector<float>{112.0f / 3, 112.0f / 0.7f}));
  EXPECT_EQ(scales_after(recipe(1, AmaxAlgo::max, 1), kE5m2Max, {1e-3f}),
            (std::vector<float>{28672.0f / 1e-3f}));
}

TEST(DelayedScale, ZeroAmaxIsSkippedOrRecorded) {
  // skip (PyTorch's bulk update): zeros neither roll the window nor change the scale, so 8 stays
  // in the window of 2 when 1 arrives.
  EXPECT_EQ(scales_after(recipe(2, AmaxAlgo::max), kE4m3Max, {8, 0, 0, 1}),
            (std::vector<float>{56, 56, 56, 56}));
  // record (the per-tensor kernel): zeros enter the window; an all-zero window keeps the scale;
  // then 1 alone sets it.
  EXPECT_EQ(scales_after(recipe(2, AmaxAlgo::max, 0, ZeroAmax::record), kE4m3Max, {8, 0, 0, 1}),
            (std::vector<float>{56, 56, 56, 448}));
  DelayedScale s(recipe(2, AmaxAlgo::max, 0, ZeroAmax::record), kE4m3Max);
  s.update(0);
  EXPECT_EQ(s.scale(), 1.0f);  // nothing to scale by yet
  EXPECT_EQ(s.history(), (std::deque<float>{0}));
  // most_recent with a zero keeps the previous scale in both modes.
  EXPECT_EQ(scales_after(recipe(4, AmaxAlgo::most_recent, 0, ZeroAmax::record), kE4m3Max, {4, 0}),
            (std::vector<float>{112, 112}));
}

TEST(DelayedScale, InfiniteAmaxFreezesTheScaleWhileInTheWindow) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(scales_after(recipe(2, AmaxAlgo::max), kE4m3Max, {4, inf, 2, 2}),
            (std::vector<float>{112, 112, 112, 224}));
  EXPECT_EQ(scales_after(recipe(2, AmaxAlgo::most_recent), kE4m3Max, {4, inf, 2}),
            (std::vector<float>{112, 112, 224}));
}

TEST(DelayedScale, TinyAmaxGivesFloatMax) {
  DelayedScale s(recipe(1, AmaxAlgo::max), kE4m3Max);
  s.update(1e-38f);  // 448 / 1e-38 overflows fp32
  EXPECT_EQ(s.scale(), std::numeric_limits<float>::max());
  EXPECT_EQ(s.scale_inv(), 1.0f / std::numeric_limits<float>::max());
}

// The cast as encode() defines it, element by element: fp32(x * scale) to FP8 under `policy`
// (element first_index + i), then fp32(value * scale_inv).
struct ScalarCast {
  std::vector<float> values;
  ConversionCounts counts;
};
ScalarCast scalar_cast(const FloatFormat& fp8, const std::vector<float>& x, float scale,
                       float scale_inv, const ConvertPolicy& policy, std::uint64_t first_index) {
  ScalarCast out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Unpacked scaled = unpack_f32(x[i] * scale);
    const EncodeResult r = encode(fp8, scaled, policy, first_index + i);
    count(out.counts, fp8, r, scaled.cls == ValueClass::finite);
    out.values.push_back(float(float(to_double(fp8, r.code)) * scale_inv));
  }
  return out;
}

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_counts(const ConversionCounts& a, const ConversionCounts& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Values over many binades, both signs, zeros, subnormals, values past the FP8 range, inf, NaN.
std::vector<float> awkward_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mantissa(1, 2);
  std::uniform_int_distribution<int> exponent(-30, 14);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = std::ldexp(mantissa(rng), exponent(rng)) * (i % 2 ? -1 : 1);
  const float specials[] = {0.0f,
                            -0.0f,
                            1e-40f,
                            448.0f,
                            449.0f,
                            464.0f,
                            1e6f,
                            -1e30f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  for (std::size_t i = 0; i < std::size(specials) && i * 997 < n; ++i) x[i * 997] = specials[i];
  return x;
}

TEST(CastToFp8, MatchesScalarEncodeBitForBit) {
  const std::vector<float> x = awkward_values(70000, 5);  // three chunks of the pool split
  struct Case {
    const char* format;
    float scale;
    Rounding mode;
  };
  for (const Case& c : {Case{"e4m3", 1.0f, Rounding::nearest_even},
                        Case{"e4m3", 448.0f / 3.7f, Rounding::nearest_even},
                        Case{"e5m2", 57344.0f / 1e-3f, Rounding::nearest_even},
                        Case{"e5m2", 0.37f, Rounding::stochastic}}) {
    SCOPED_TRACE(std::string(c.format) + " scale " + std::to_string(c.scale));
    const FloatFormat fp8 = *find_float_preset(c.format);
    ConvertPolicy policy;
    policy.overflow = Overflow::saturate;
    policy.rounding.mode = c.mode;
    policy.rounding.seed = 11;
    policy.rounding.stream = 3;
    const float scale_inv = 1.0f / c.scale;
    const ScalarCast want = scalar_cast(fp8, x, c.scale, scale_inv, policy, 1000);
    for (int threads : {1, 2}) {
      nn::ThreadPool pool(threads);
      std::vector<float> got = x;
      const Fp8Cast r = cast_to_fp8(fp8, got, c.scale, scale_inv, policy, 1000, pool);
      std::size_t differ = 0;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!same_bits(want.values[i], got[i]) && ++differ < 4)
          ADD_FAILURE() << "x[" << i << "] = " << x[i] << ": want " << want.values[i] << " got "
                        << got[i];
      EXPECT_EQ(differ, 0u);
      EXPECT_TRUE(same_counts(r.counts, want.counts));
      EXPECT_GT(r.counts.saturated, 0u);
      EXPECT_EQ(r.amax, std::numeric_limits<float>::infinity());  // inf kept, NaN ignored
      EXPECT_EQ(r.max_abs, 1e30f);
    }
  }
}

TEST(CastToFp8, HandComputedE4m3) {
  // scale 448/896 = 0.5: 896 -> 448 exactly; 1.3 -> 0.65 -> 10 * 2^-4; -5000 -> -2500 clips to
  // -448; 0.01 -> 0.005 -> 2.56 * 2^-9 rounds to the subnormal 3 * 2^-9.
  const FloatFormat e4m3 = *find_float_preset("e4m3");
  ConvertPolicy policy;
  policy.overflow = Overflow::saturate;
  nn::ThreadPool pool(1);
  std::vector<float> x = {896, 1.3f, -5000, 0.01f};
  const Fp8Cast r = cast_to_fp8(e4m3, x, 0.5f, 2.0f, policy, 0, pool);
  EXPECT_EQ(x, (std::vector<float>{896, 1.25f, -896, 0x3p-8f}));
  EXPECT_EQ(r.counts.saturated, 1u);
  EXPECT_EQ(r.counts.inexact, 3u);
  EXPECT_EQ(r.amax, 5000.0f);
}

// A training or evaluation conversion of `values` by q at `step`.
std::vector<float> convert(Fp8DelayedQuantizer& q, std::vector<float> values, std::uint64_t step,
                           bool training, nn::TensorStats* stats = nullptr,
                           std::string_view part = {}) {
  nn::ThreadPool pool(1);
  nn::QTensor t;
  t.values.resize({values.size(), 1, 1, 1});
  t.values.data = std::move(values);
  q.apply(t, {.pool = pool, .step = step, .training = training, .part = part}, stats);
  return t.values.data;
}

double extra(const nn::TensorStats& s, const std::string& name) {
  for (const auto& [key, value] : s.extras)
    if (key == name) return std::get<double>(value);
  ADD_FAILURE() << "no extra " << name;
  return 0;
}

TEST(Fp8DelayedQuantizer, EachStepUsesTheScaleOfTheStepsBefore) {
  const FloatFormat e4m3 = *find_float_preset("e4m3");
  ConvertPolicy policy;
  policy.overflow = Overflow::saturate;
  Fp8DelayedQuantizer q(e4m3, recipe(1024, AmaxAlgo::max), policy);
  nn::TensorStats stats;

  // Step 0 casts with scale 1: 1000 clips to 448.
  EXPECT_EQ(convert(q, {1000, 0.5f}, 0, true, &stats), (std::vector<float>{448, 0.5f}));
  EXPECT_EQ(stats.counts.saturated, 1u);
  EXPECT_EQ(extra(stats, "fp8_scale"), 1.0);
  EXPECT_EQ(extra(stats, "fp8_amax"), 1000.0);
  // A second conversion in the same step: the same scale, its amax joins the step's.
  convert(q, {1500}, 0, true, &stats);
  EXPECT_EQ(extra(stats, "fp8_scale"), 1.0);
  EXPECT_EQ(q.state().scale(), 1.0f);  // not updated until the step is over

  // Evaluation after step 0 sees the scale from step 0's amax (1500) and records nothing.
  const float after_step0 = 448.0f / 1500.0f;
  convert(q, {9000}, 0, false, &stats);
  EXPECT_EQ(extra(stats, "fp8_scale"), double(after_step0));
  EXPECT_EQ(q.state().history(), (std::deque<float>{1500}));

  // Step 1 uses it too; 9000 from the evaluation is not in the history.
  const std::vector<float> step1 = convert(q, {100}, 1, true, &stats);
  EXPECT_EQ(extra(stats, "fp8_scale"), double(after_step0));
  const ScalarCast want = scalar_cast(e4m3, {100}, after_step0, 1.0f / after_step0, policy, 0);
  EXPECT_EQ(step1, want.values);
  // Step 3 (step 2 had no conversion): max(1500, 100).
  convert(q, {1}, 3, true, &stats);
  EXPECT_EQ(extra(stats, "fp8_scale"), double(after_step0));
  EXPECT_EQ(q.state().history(), (std::deque<float>{1500, 100}));
}

TEST(Fp8DelayedQuantizer, MostRecentWithHistoryOne) {
  ConvertPolicy policy;
  policy.overflow = Overflow::saturate;
  Fp8DelayedQuantizer q(*find_float_preset("e5m2"), recipe(1, AmaxAlgo::most_recent), policy);
  nn::TensorStats stats;
  const float amaxes[] = {1e-4f, 3e-5f, 2e-3f};
  float expected_scale = 1;
  for (std::uint64_t step = 0; step < 3; ++step) {
    convert(q, {amaxes[step], -amaxes[step] / 3}, step, true, &stats);
    EXPECT_EQ(extra(stats, "fp8_scale"), double(expected_scale)) << "step " << step;
    expected_scale = 57344.0f / amaxes[step];
  }
}

TEST(Fp8DelayedQuantizer, BiasesStayFp32) {
  ConvertPolicy policy;
  policy.overflow = Overflow::saturate;
  Fp8DelayedQuantizer q(*find_float_preset("e4m3"), recipe(4, AmaxAlgo::max), policy);
  nn::TensorStats stats;
  const std::vector<float> bias = {1000.3f, -1e-9f};
  EXPECT_EQ(convert(q, bias, 0, true, &stats, "bias"), bias);
  EXPECT_EQ(stats.max_abs, 1000.3f);
  EXPECT_TRUE(stats.extras.empty());
  convert(q, {2}, 1, true);
  EXPECT_TRUE(q.state().history().empty());  // the bias recorded no amax
}

TEST(Fp8DelayedQuantizer, Describes) {
  ConvertPolicy policy;
  policy.overflow = Overflow::saturate;
  const Fp8DelayedQuantizer q(*find_float_preset("e5m2"), recipe(16, AmaxAlgo::most_recent, 1),
                              policy);
  EXPECT_EQ(
      q.describe(),
      "fp8-delayed:e5m2:nearest-even:saturate:history=16:most_recent:margin=1:zero-amax=skip");
}

}  // namespace
}  // namespace lpsim::schemes::scaled
