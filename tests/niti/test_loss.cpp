// NITI's cross-entropy backward: the integer version (2020) and HEAD's float32 division on
// hand-computed rows (both branches, both divisions), and StoShift(p, 4) of the result: values
// next to p / 16, rounding up with probability (p mod 16) / 16, clipped at +-127, the same bits
// for any thread count.
#include <gtest/gtest.h>

#include <vector>

#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/niti/float_boundary.hpp"
#include "sim/schemes/niti/loss.hpp"

namespace lpsim::schemes::niti {
namespace {

std::vector<std::int32_t> integer_p(std::vector<std::int8_t> q, int exponent, std::uint8_t label,
                                    Division division) {
  std::vector<std::int32_t> p(q.size());
  const std::uint8_t labels[] = {label};
  integer_softmax_error(q, q.size(), exponent, labels, division, p);
  return p;
}

std::vector<std::int32_t> float_p(std::vector<std::int8_t> q, int exponent, std::uint8_t label) {
  std::vector<std::int32_t> p(q.size());
  const std::uint8_t labels[] = {label};
  niti_float::float_division_softmax_error(q, q.size(), exponent, labels, p);
  return p;
}

using P = std::vector<std::int32_t>;

// Base-2 branch, exponent -3, q = (16, 8, 0): s = q * 47274 // 2^15 = (23, 11, 0), // 8 = (2, 1,
// 0), minus (max - 10) = (10, 9, 8): p~ = (1023, 511, 255), sum 1789; p = p~ * 2048 // 1789 =
// (1171, 584, 291), sum 2046, taken from the label's.
TEST(NitiLoss, IntegerBase2Branch) {
  EXPECT_EQ(integer_p({16, 8, 0}, -3, 1, Division::trunc), (P{1171, -1462, 291}));
  // Negative logits: (-16 * 47274) // 2^15 = -23 (trunc) or -24 (floor), then // 8 = -2 or -3.
  EXPECT_EQ(integer_p({-16, 8, 0}, -3, 1, Division::trunc), (P{156, -786, 630}));
  EXPECT_EQ(integer_p({-16, 8, 0}, -3, 1, Division::floor), (P{80, -735, 655}));
  // Exponent 1: s = (7, -4, 1) * 2 = (14, -8, 2), minus 4: (10, -12, -2) -> p~ = (1023, 0, 0).
  EXPECT_EQ(integer_p({5, -3, 1}, 1, 2, Division::trunc), (P{2048, 0, -2048}));
}

// Taylor branch, exponent -8: p~ = 2^17 + q * 2^9 + q^2 = (132617, 130052, 131072).
TEST(NitiLoss, IntegerTaylorBranch) {
  EXPECT_FALSE(base2_branch(-8));
  EXPECT_TRUE(base2_branch(-6));
  EXPECT_EQ(taylor_unnormalised(3, -8), 132617);
  EXPECT_EQ(integer_p({3, -2, 0}, -8, 0, Division::trunc), (P{-1357, 676, 681}));
}

// HEAD divides in float32: s keeps its fraction, (2.885, 1.443, 0) -> 2^(s + 7.115) - 1.
TEST(NitiLoss, FloatDivisionKeepsFractions) {
  EXPECT_EQ(float_p({16, 8, 0}, -3, 1), (P{1364, -1546, 183}));
  EXPECT_EQ(float_p({3, -2, 0}, -8, 0), (P{-1356, 676, 681}));  // the integer one gives -1357
}

TEST(NitiLoss, StoShiftErrorRoundsUpWithTheDroppedFraction) {
  nn::ThreadPool pool(1);
  const std::vector<std::int32_t> p = {1171, -1462, 291, -2048};  // 73 + 3/16, -(91 + 6/16), ..
  std::vector<std::int8_t> err(p.size());
  int up[3] = {};
  constexpr int kSteps = 16000;
  for (int step = 0; step < kSteps; ++step) {
    const Requantization r =
        sto_shift_error(p, err, Division::trunc, 42, std::uint64_t(step), pool);
    ASSERT_TRUE(err[0] == 73 || err[0] == 74);
    ASSERT_TRUE(err[1] == -91 || err[1] == -92);
    ASSERT_TRUE(err[2] == 18 || err[2] == 19);
    ASSERT_EQ(err[3], -127);  // -128, clipped
    ASSERT_EQ(r.clipped, 1);
    ASSERT_EQ(r.shift, 4);
    up[0] += err[0] == 74;
    up[1] += err[1] == -92;
    up[2] += err[2] == 19;
  }
  // Binomial(16000, k / 16): within 5 standard deviations (~ 250 draws).
  EXPECT_NEAR(up[0], kSteps * 3 / 16, 250);
  EXPECT_NEAR(up[1], kSteps * 6 / 16, 250);
  EXPECT_NEAR(up[2], kSteps * 3 / 16, 250);
}

TEST(NitiLoss, StoShiftErrorIsTheSameForAnyThreadCount) {
  std::vector<std::int32_t> p(100000);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::int32_t(i * 7919 % 4096) - 2048;
  std::vector<std::int8_t> one(p.size()), two(p.size()), other_seed(p.size());
  nn::ThreadPool pool1(1), pool2(2);
  sto_shift_error(p, one, Division::trunc, 1, 3, pool1);
  sto_shift_error(p, two, Division::trunc, 1, 3, pool2);
  sto_shift_error(p, other_seed, Division::trunc, 2, 3, pool1);
  EXPECT_EQ(one, two);
  EXPECT_NE(one, other_seed);
}

}  // namespace
}  // namespace lpsim::schemes::niti
