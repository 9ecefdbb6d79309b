// WAGEUBN's primitives (sim/schemes/wageubn/quantize.hpp) pinned to SCHEMES.md §3 and to
// hand-computed cases, and checked against formats/ where a rule equals one of its conversions:
// Q(x, k) is fixed point with k-1 fraction bits (nearest-even, unsaturated), fw is q0.7
// symmetric saturating, R is the `wageubn` shared-exponent rule, fe1 and fe2 are `wageubn` block
// conversions except where SCHEMES.md says they differ (fe1's +128/128).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "formats/block_format.hpp"
#include "formats/convert.hpp"
#include "formats/rounding.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/wageubn/quantize.hpp"

namespace lpsim::schemes::wageubn {
namespace {

// formats' policy for fixed point: nearest-even, clamped to the range.
const ConvertPolicy kSaturate{.rounding = {}, .overflow = Overflow::saturate};

float bits_to_float(std::uint32_t b) { return std::bit_cast<float>(b); }

// Same bits (so -0 differs from +0).
void expect_bits(std::span<const float> want, std::span<const float> got, const char* what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(want[i]), std::bit_cast<std::uint32_t>(got[i]))
        << what << "[" << i << "]: want " << want[i] << ", got " << got[i];
}

// Equal values; formats' fixed point has no -0 where tf.round keeps the sign of zero.
void expect_values(std::span<const float> want, std::span<const float> got, const char* what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(want[i], got[i]) << what << "[" << i << "]";
}

// Random floats of every binade in [2^-40, 2^30), both signs, and the half-way points of the
// grids 2^-7, 2^-15 and 2^-23 (the ties).
std::vector<float> samples() {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> exponent(-40, 30);
  std::vector<float> x;
  for (int i = 0; i < 20000; ++i) {
    const float v = float(std::exp2(exponent(rng)));
    x.push_back(i % 2 ? -v : v);
  }
  for (int grid : {7, 15, 23})
    for (int k = -300; k <= 300; ++k) x.push_back(std::ldexp(float(k) + 0.5f, -grid));
  x.push_back(0.0f);
  x.push_back(-0.0f);
  return x;
}

TEST(WageubnQuantize, RoundHalfEvenAsNearbyint) {
  std::vector<float> x = samples();
  for (float v : {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 0x1p23f - 0.5f, 0x1p22f + 0.5f, 0x1p24f, 0.3f,
                  -0.3f, INFINITY, -INFINITY})
    x.push_back(v);
  for (float v : x)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(round_half_even(v)),
              std::bit_cast<std::uint32_t>(std::nearbyint(v)))
        << v;
  EXPECT_TRUE(std::isnan(round_half_even(NAN)));
}

TEST(WageubnQuantize, DirectIsRoundHalfToEvenOnTheGrid) {
  // Q(x, 8) = round(128 x) / 128: ties to even, no saturation, the sign of zero kept.
  const float s = steps(8);
  EXPECT_EQ(direct(0.3f, s), 38.0f / 128);       // 38.4
  EXPECT_EQ(direct(3.0f / 256, s), 2.0f / 128);  // 1.5 -> 2
  EXPECT_EQ(direct(5.0f / 256, s), 2.0f / 128);  // 2.5 -> 2
  EXPECT_EQ(direct(1.0f / 256, s), 0.0f);        // 0.5 -> 0
  EXPECT_TRUE(std::signbit(direct(-1.0f / 256, s)));
  EXPECT_EQ(direct(300.7f, s), 38490.0f / 128);  // 38489.6: unclipped
  EXPECT_EQ(direct(0x1p-13f, steps(13)), 0.0f);  // the momentum grid 2^-12: a tie to 0
  EXPECT_EQ(direct(3 * 0x1p-13f, steps(13)), 0x1p-11f);
}

TEST(WageubnQuantize, DirectEqualsFixedPointConversion) {
  // Q(x, k) = the fixed-point format with k-1 fraction bits, nearest-even, in range.
  nn::ThreadPool pool(2);
  const std::vector<float> x = samples();
  for (int bits : {8, 10, 13, 15, 16, 24}) {
    SCOPED_TRACE("bits " + std::to_string(bits));
    std::vector<float> got = x;
    const Tally tally = direct_quantize(got, bits, false, true, pool);
    const FixedFormat fixed{.int_bits = 63 - bits, .frac_bits = bits - 1};
    const std::vector<double> wide(x.begin(), x.end());
    std::vector<double> converted(x.size());
    const ConversionCounts counts = quantize_f64(ScalarFormat{fixed}, wide, converted, kSaturate);
    const std::vector<float> want(converted.begin(), converted.end());
    expect_values(want, got, "Q");
    EXPECT_EQ(tally.counts.inexact, counts.inexact);
    EXPECT_EQ(tally.counts.saturated, 0u);
  }
}

TEST(WageubnQuantize, WeightsEqualSymmetricQ07Saturating) {
  // fw = clip(Q(w, 8), 8): the largest magnitude is 127/128, as q0.7 symmetric saturating.
  nn::ThreadPool pool(1);
  std::vector<float> x = samples();
  for (float v : {127.5f / 128, 127.49f / 128, 1.0f, -1.0f, -127.5f / 128, 5.0f}) x.push_back(v);
  std::vector<float> got = x;
  const Tally tally = direct_quantize(got, 8, true, true, pool);
  const FixedFormat q07{.int_bits = 0, .frac_bits = 7, .is_signed = true, .symmetric = true};
  const std::vector<double> wide(x.begin(), x.end());
  std::vector<double> converted(x.size());
  const ConversionCounts counts = quantize_f64(ScalarFormat{q07}, wide, converted, kSaturate);
  expect_values(std::vector<float>(converted.begin(), converted.end()), got, "fw");
  EXPECT_EQ(tally.counts.saturated, counts.saturated);
  EXPECT_GT(tally.counts.saturated, 0u);
  EXPECT_EQ(got[got.size() - 6], 127.0f / 128);  // 127.5 rounds to 128, clipped
  EXPECT_EQ(got[got.size() - 5], 127.0f / 128);
  EXPECT_EQ(got.back(), 127.0f / 128);
}

TEST(WageubnQuantize, ScaleIsTheNearestPowerOfTwo) {
  // round(log2 x) switches at sqrt(2) 2^e: 0x3FB504F3 < sqrt(2) < 0x3FB504F4.
  const float below = bits_to_float(0x3FB504F3), above = bits_to_float(0x3FB504F4);
  ASSERT_LT(double(below), std::sqrt(2.0));
  ASSERT_GT(double(above), std::sqrt(2.0));
  for (int e : {-120, -20, 0, 7, 100}) {
    SCOPED_TRACE("2^" + std::to_string(e));
    EXPECT_EQ(scale_exponent(std::ldexp(below, e)), e);
    EXPECT_EQ(scale_exponent(std::ldexp(above, e)), e + 1);
    EXPECT_EQ(scale_exponent(std::ldexp(1.0f, e)), e);
    EXPECT_EQ(scale_exponent(std::ldexp(0.75f, e)), e);      // log2 0.75 = -0.415
    EXPECT_EQ(scale_exponent(std::ldexp(0.70f, e)), e - 1);  // log2 0.70 = -0.515
  }
  EXPECT_EQ(scale_exponent(0.0f), 0);
  // formats' wageubn rule for an int8 block is the same exponent minus 7.
  const BlockFormat rule{.element = FixedFormat::integer(8), .rule = ExponentRule::wageubn};
  for (float v : samples()) {
    if (v == 0) continue;
    EXPECT_EQ(scale_exponent(std::fabs(v)), shared_exponent(rule, std::fabs(v)) + 7);
  }
}

TEST(WageubnQuantize, ShiftHandComputed) {
  nn::ThreadPool pool(1);
  // max 1.4: R = 1 (log2 1.4 = 0.49); 1.4 and 0.999 reach 128/128 (+1 allowed), 1.4 and -1.4 clamp.
  std::vector<float> x = {1.4f, 0.999f, -1.4f, 0.3f, -0.0039f, 1.0f / 256, 0.0f};
  Tally t = shift_quantize(x, 8, true, pool);
  expect_bits(std::vector<float>{1.0f, 1.0f, -1.0f, 38.0f / 128, -0.0f, 0.0f, 0.0f}, x, "R = 1");
  EXPECT_EQ(t.exponent, 0);
  EXPECT_EQ(t.counts.saturated, 2u);
  EXPECT_EQ(t.counts.flushed_to_zero, 2u);
  EXPECT_EQ(t.nonzero_inputs, 6u);
  EXPECT_FLOAT_EQ(t.max_abs, 1.4f);
  // max 1.5: R = 2 (log2 1.5 = 0.58): 0.01 / 2 * 128 = 0.64 -> 1 step of 2/128.
  x = {1.5f, 0.01f, -0.75f};
  t = shift_quantize(x, 8, true, pool);
  expect_bits(std::vector<float>{1.5f, 2.0f / 128, -0.75f}, x, "R = 2");
  EXPECT_EQ(t.exponent, 1);
  EXPECT_EQ(t.counts.saturated, 0u);
}

// A wageubn block conversion of x (one tensor-wide exponent), dequantized.
std::vector<float> block_conversion(const FixedFormat& element, std::span<const float> x,
                                    ConversionCounts* counts = nullptr) {
  const BlockFormat f{.element = element, .rule = ExponentRule::wageubn};
  std::vector<float> out(x.size());
  std::vector<int> exponent(1);
  const BlockResult r = quantize_block(f, x, 1, x.size(), {}, exponent, out, kSaturate);
  if (counts) *counts = r.counts;
  return out;
}

// Gradient-like tensors: normal values of a random scale with some zeros.
std::vector<std::vector<float>> gradients() {
  std::mt19937 rng(5);
  std::vector<std::vector<float>> out;
  for (double scale : {1e-6, 3e-3, 0.7, 1.0, 5.0, 1e3}) {
    std::normal_distribution<float> normal(0.0f, float(scale));
    std::vector<float> x(4099);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = i % 7 == 0 ? 0.0f : normal(rng);
    out.push_back(std::move(x));
  }
  return out;
}

TEST(WageubnQuantize, ShiftIsAnInt8BlockExceptPlus128) {
  // fe1 = the wageubn block conversion to int8 except that |x| / R >= 127.5 / 128 gives +-R (code
  // 128) where int8 saturates to 127 (and -128 stays -128).
  nn::ThreadPool pool(2);
  std::size_t top = 0;  // elements at +128/128, over all tensors
  for (const std::vector<float>& x : gradients()) {
    std::vector<float> got = x;
    const Tally t = shift_quantize(got, 8, true, pool);
    const std::vector<float> block = block_conversion(FixedFormat::integer(8), x);
    const float r = std::ldexp(1.0f, t.exponent);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool plus_128 = x[i] / r >= 127.5f / 128;
      top += plus_128;
      EXPECT_EQ(got[i], plus_128 ? r : block[i]) << i;
    }
  }
  EXPECT_GT(top, 0u);
}

TEST(WageubnQuantize, FlagHandComputed) {
  nn::ThreadPool pool(1);
  // max 1: R = 1, s = 1/128, y = 128 x.
  std::vector<float> x = {1.0f,         0.5f,         3.0f / 256,    5.0f / 256,
                          1.0f / 256,   0.999f / 128, 1.0f / 128,    0x1p-15f,
                          3 * 0x1p-16f, -3.0f / 256,  -0.999f / 128, 0.0f};
  const std::vector<float> want = {
      127.0f / 128,  // y 128: the integer branch clamps to 127
      0.5f,          // y 64
      2.0f / 128,    // y 1.5 -> 2 (integer branch, ties to even)
      2.0f / 128,    // y 2.5 -> 2
      0x1p-8f,       // y 0.5: fine branch Q(0.5, 8) = 0.5 (grid s / 128 = 2^-14)
      1.0f / 128,    // y 0.999: fine branch rounds to 1
      1.0f / 128,    // y 1: integer branch
      0.0f,          // y 2^-8: fine branch, 0.5 / 128 ties to 0
      0x1p-14f,      // y 0.75 / 128 -> 1 / 128
      -2.0f / 128,   //
      -1.0f / 128,   //
      0.0f};
  const Tally t = flag_quantize(x, 8, true, pool);
  expect_bits(want, x, "flag");
  EXPECT_EQ(t.exponent, 0);
  EXPECT_EQ(t.counts.saturated, 1u);
  EXPECT_EQ(t.counts.flushed_to_zero, 1u);
  EXPECT_EQ(t.nonzero_inputs, 11u);
  EXPECT_EQ(t.fine, 5u);  // 1/256, 0.999/128, 2^-15, 3 2^-16 and -0.999/128
}

TEST(WageubnQuantize, FlagIsTwoBlockConversions) {
  // |y| >= 1: the int8 symmetric block (grid s = R / 128, +-127); |y| < 1: the int15 block (its
  // exponent is 7 lower: grid s / 128, Q(|y|, 8)).
  nn::ThreadPool pool(2);
  for (const std::vector<float>& x : gradients()) {
    std::vector<float> got = x;
    const Tally t = flag_quantize(got, 8, true, pool);
    ConversionCounts coarse_counts;
    const std::vector<float> coarse =
        block_conversion(FixedFormat{.int_bits = 7, .symmetric = true}, x, &coarse_counts);
    const std::vector<float> fine = block_conversion(FixedFormat::integer(15), x);
    const float s = std::ldexp(1.0f, t.exponent - 7);
    std::uint64_t in_fine = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool is_fine = std::fabs(x[i] / s) < 1;
      in_fine += is_fine && x[i] != 0;
      EXPECT_EQ(got[i], is_fine ? fine[i] : coarse[i]) << i;
    }
    EXPECT_EQ(t.fine, in_fine);
    EXPECT_EQ(t.counts.saturated, coarse_counts.saturated);
  }
}

TEST(WageubnQuantize, UniformIsPhiloxOnTheGrid) {
  const UniformSource a{.seed = 3, .stream = 9, .first_index = 100};
  const UniformSource b{.seed = 3, .stream = 9, .first_index = 0};
  const RoundingSpec spec{.mode = Rounding::stochastic, .random_bits = 23, .seed = 3, .stream = 9};
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const float u = a.at(i);
    EXPECT_EQ(u, b.at(i + 100));
    EXPECT_EQ(u, float(stochastic_random(spec, 100 + i)) * 0x1p-23f);
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
    EXPECT_EQ(u * 0x1p23f, std::floor(u * 0x1p23f));
  }
  EXPECT_NE(a.at(0), (UniformSource{.seed = 3, .stream = 10, .first_index = 100}.at(0)));
}

TEST(WageubnQuantize, ConstantHandComputed) {
  // max 1: R = 1; with g_scale 128 the element x has norm 128 x, G = n 2^-14 (8 bits).
  nn::ThreadPool pool(1);
  const UniformSource uniform{.seed = 1, .stream = 2, .first_index = 0};
  std::vector<float> u;
  for (std::uint64_t i = 0; i < 8; ++i) u.push_back(uniform.at(i));
  ASSERT_GT(u[3], 0x1p-23f);  // for the cases below (this seed's draws)
  ASSERT_GT(u[6], 0x1p-23f);
  ASSERT_LT(u[2], 1.0f - 0x1p-23f);
  const std::vector<float> x = {1.0f,              // norm 128: clamped to 127
                                (1 + u[1]) / 128,  // frac == U: + 0.5, n = 1.5, Q15 rounds to 2
                                (1 + u[2] + 0x1p-23f) / 128,  // frac > U: n = 2
                                (1 + u[3] - 0x1p-23f) / 128,  // frac < U: n = 1
                                -(1 + u[4]) / 128,            // tie, negative: -1.5 -> -2
                                0.0f,                         //
                                (u[6] - 0x1p-23f) / 128,      // frac < U: rounded to 0
                                -1.0f};                       // norm -128: clamped to -127
  for (const auto& [tie, tied_up] : {std::pair{0.5f, 2.0f}, std::pair{0.0f, 1.0f}}) {
    SCOPED_TRACE("tie " + std::to_string(tie));
    std::vector<float> g = x;
    const Tally t = constant_quantize(g, 8, 128, tie, uniform, true, pool);
    const float unit = 0x1p-14f;
    expect_bits(std::vector<float>{127 * unit, tied_up * unit, 2 * unit, unit, -tied_up * unit,
                                   0.0f, 0.0f, -127 * unit},
                g, "G");
    EXPECT_EQ(t.exponent, 0);
    EXPECT_EQ(t.counts.saturated, 2u);
    EXPECT_EQ(t.counts.flushed_to_zero, 1u);
    EXPECT_DOUBLE_EQ(t.zeroed_fraction(), 1.0 / 7);
  }
}

TEST(WageubnQuantize, ConstantScaleAndClampFollowGScale) {
  // R = 4 (max 3: log2 3 = 1.58); g_scale 2 makes the integers ternary.
  nn::ThreadPool pool(1);
  const UniformSource uniform{.seed = 7};
  std::vector<float> g = {3.0f, -3.0f, 1.0f, 0.0f};
  const Tally t = constant_quantize(g, 8, 2, 0.5f, uniform, true, pool);
  EXPECT_EQ(t.exponent, 2);
  // 3: norm 1.5 -> 1 or 2, clamped to 1; 1: norm 0.5 -> 0 or 1.
  EXPECT_EQ(g[0], 0x1p-14f);
  EXPECT_EQ(g[1], -0x1p-14f);
  EXPECT_TRUE(g[2] == 0.0f || g[2] == 0x1p-14f);
  EXPECT_EQ(g[3], 0.0f);
  // bits_g scales G: n / (128 2^(k-1)) = n 2^-16 for 10 bits (Q15 then rounds to 2^-14).
  std::vector<float> h = {1.0f, 4.0f / 128};
  constant_quantize(h, 10, 128, 0.5f, uniform, true, pool);
  EXPECT_EQ(h[0], 32 * 0x1p-14f);  // 127 2^-16 = 31.75 2^-14 -> 32 2^-14
  EXPECT_EQ(h[1], 1 * 0x1p-14f);   // 4 2^-16
}

TEST(WageubnQuantize, ConstantIsUnbiased) {
  // Stochastic rounding keeps the mean: 20000 elements of norm 0.3 (R set by one element of 1).
  nn::ThreadPool pool(2);
  std::vector<float> g(20001, 0.3f / 128);
  g[0] = 1.0f;
  constant_quantize(g, 8, 128, 0.5f, UniformSource{.seed = 4, .stream = 1}, true, pool);
  double sum = 0;
  for (std::size_t i = 1; i < g.size(); ++i) {
    ASSERT_TRUE(g[i] == 0.0f || g[i] == 0x1p-14f) << i;
    sum += g[i] / 0x1p-14f;
  }
  EXPECT_NEAR(sum / 20000, 0.3, 0.02);  // 6 standard deviations
}

TEST(WageubnQuantize, AllZeroTensorsStayZero) {
  nn::ThreadPool pool(1);
  std::vector<float> x(5, 0.0f);
  EXPECT_EQ(shift_quantize(x, 8, true, pool).exponent, 0);
  EXPECT_EQ(flag_quantize(x, 8, true, pool).counts.zero, 5u);
  constant_quantize(x, 8, 128, 0.5f, UniformSource{}, true, pool);
  for (float v : x) EXPECT_EQ(v, 0.0f);
}

TEST(WageubnQuantize, SameBitsForAnyThreadCountCountedOrNot) {
  std::vector<float> x(100003);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0, 0.01f);
  for (float& v : x) v = normal(rng);
  std::vector<float> results[2];
  for (int threads : {1, 3}) {
    nn::ThreadPool pool(threads);
    std::vector<float> g = x;
    const bool counted = threads == 1;  // the statistics never change the values
    constant_quantize(g, 8, 32, 0.5f, UniformSource{.seed = 9, .stream = 4}, counted, pool);
    std::vector<float> e = x;
    flag_quantize(e, 8, counted, pool);
    g.insert(g.end(), e.begin(), e.end());
    results[threads == 1 ? 0 : 1] = std::move(g);
  }
  EXPECT_EQ(std::memcmp(results[0].data(), results[1].data(), results[0].size() * 4), 0);
}

}  // namespace
}  // namespace lpsim::schemes::wageubn
