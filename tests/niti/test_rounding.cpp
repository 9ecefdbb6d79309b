// NITI's rounding functions: SCHEMES.md's worked examples and hand-computed cases under both
// divisions, and two independent implementations checking each other -- RoundShift (trunc) is
// formats' nearest-away rounding of x / 2^s and PstoShift (trunc) is formats' niti-psr rounding,
// exhaustively over a range of x and s; the 32-bit and 64-bit instantiations agree; RangeEstimate
// equals ceil(log2) of the C++ float conversion.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <random>

#include "formats/rounding.hpp"
#include "sim/schemes/niti/rounding.hpp"

namespace lpsim::schemes::niti {
namespace {

constexpr Division kTrunc = Division::trunc, kFloor = Division::floor;

std::int64_t round_shift64(std::int64_t x, int s, Division d) { return round_shift(x, s, d); }
std::int64_t psto_shift64(std::int64_t x, int s, Division d) { return psto_shift(x, s, d); }

// formats' rounding of the integer x to a multiple of 2^s, as a signed multiple count.
std::int64_t formats_round(std::int64_t x, int s, Rounding mode) {
  const Magnitude m{.sig = uint128(x < 0 ? -x : x), .exp = 0, .sticky = false};
  const auto k = std::int64_t(round_to_quantum(x < 0, m, s, mode, 32, 0).k);
  return x < 0 ? -k : k;
}

TEST(NitiRounding, DivisionTruncatesOrFloors) {
  EXPECT_EQ(divide(7, 2, kTrunc), 3);
  EXPECT_EQ(divide(-7, 2, kTrunc), -3);
  EXPECT_EQ(divide(-7, 2, kFloor), -4);
  EXPECT_EQ(divide(-8, 2, kFloor), -4);
  EXPECT_EQ(shift_divide<std::int32_t>(-7, 1, kTrunc), -3);
  EXPECT_EQ(shift_divide<std::int32_t>(-7, 1, kFloor), -4);
  EXPECT_EQ(shift_divide<std::int64_t>(-1, 5, kTrunc), 0);
  EXPECT_EQ(shift_divide<std::int64_t>(-1, 5, kFloor), -1);
}

// SCHEMES.md §2: s = 5, x = 1000 -> t = 31, p = 8 = 0b01000, P = 2, R = 0 -> 32; x = 1001 -> p = 9,
// P = 2, R = 2 -> 31.
TEST(NitiRounding, PstoShiftWorkedExamples) {
  EXPECT_EQ(psto_shift64(1000, 5, kTrunc), 32);
  EXPECT_EQ(psto_shift64(1001, 5, kTrunc), 31);
  EXPECT_EQ(psto_shift64(-1000, 5, kTrunc), -32);  // symmetric under trunc
  EXPECT_EQ(psto_shift64(-1001, 5, kTrunc), -31);
  // floor: t = floor(-1000 / 32) = -32, p = 24 = 0b11000, P = 6 > R = 0: -32 + sign(-1000) = -33
  EXPECT_EQ(psto_shift64(-1000, 5, kFloor), -33);
  // t = -32, p = 23 = 0b10111, P = 5, R = 3 << 1 = 6: P <= R, -32
  EXPECT_EQ(psto_shift64(-1001, 5, kFloor), -32);
  // s = 1: P = the dropped bit, R = 0: every inexact value rounds away (why 2020 widens 1 to 2)
  EXPECT_EQ(psto_shift64(5, 1, kTrunc), 3);
  EXPECT_EQ(psto_shift64(-5, 1, kTrunc), -3);
  // s = 4 (even): 0b1101_0110 = 214: t = 13, p = 6 = 0b0110, P = 1, R = 2: 13
  EXPECT_EQ(psto_shift64(214, 4, kTrunc), 13);
  // 0b1101_1001 = 217: p = 9 = 0b1001, P = 2 > R = 1: 14
  EXPECT_EQ(psto_shift64(217, 4, kTrunc), 14);
  EXPECT_EQ(psto_shift64(217, 0, kTrunc), 217);  // nothing dropped
}

TEST(NitiRounding, RoundShiftTiesAwayUnderTruncHalfUpUnderFloor) {
  EXPECT_EQ(round_shift64(48, 5, kTrunc), 2);  // 1.5
  EXPECT_EQ(round_shift64(-48, 5, kTrunc), -2);
  EXPECT_EQ(round_shift64(47, 5, kTrunc), 1);
  EXPECT_EQ(round_shift64(-47, 5, kTrunc), -1);
  EXPECT_EQ(round_shift64(16, 5, kTrunc), 1);  // 0.5
  EXPECT_EQ(round_shift64(-16, 5, kTrunc), -1);
  EXPECT_EQ(round_shift64(15, 5, kTrunc), 0);
  // floor: t = floor(x / 32), then + floor(r / 16) with r in [0, 32): half up
  EXPECT_EQ(round_shift64(-48, 5, kFloor), -1);  // -1.5 -> -1
  EXPECT_EQ(round_shift64(-16, 5, kFloor), 0);   // -0.5 -> 0
  EXPECT_EQ(round_shift64(-17, 5, kFloor), -1);
  EXPECT_EQ(round_shift64(48, 5, kFloor), 2);
  EXPECT_EQ(round_shift64(3, 1, kTrunc), 2);  // s = 1: 1.5 -> 2
  EXPECT_EQ(round_shift64(-3, 1, kFloor), -1);
}

TEST(NitiRounding, StoShiftComparesTheDroppedBitsWithTheRandomNumber) {
  // 40 = 2 * 16 + 8: up iff 8 > u
  EXPECT_EQ(sto_shift<std::int64_t>(40, 4, 7, kTrunc), 3);
  EXPECT_EQ(sto_shift<std::int64_t>(40, 4, 8, kTrunc), 2);
  EXPECT_EQ(sto_shift<std::int64_t>(-40, 4, 7, kTrunc), -3);
  EXPECT_EQ(sto_shift<std::int64_t>(-40, 4, 8, kTrunc), -2);
  EXPECT_EQ(sto_shift<std::int64_t>(32, 4, 0, kTrunc), 2);  // exact: never moves
  // floor: t = floor(-40 / 16) = -3, p = 8: -3 - 1 = -4 when 8 > u
  EXPECT_EQ(sto_shift<std::int64_t>(-40, 4, 7, kFloor), -4);
  EXPECT_EQ(sto_shift<std::int64_t>(-40, 4, 8, kFloor), -3);
}

TEST(NitiRounding, ClipWrapAndRangeMagnitude) {
  EXPECT_EQ(clip_int8(200), 127);
  EXPECT_EQ(clip_int8(-128), -127);
  EXPECT_EQ(clip_int8(-5), -5);
  EXPECT_EQ(wrap_int8(128), -128);
  EXPECT_EQ(wrap_int8(-129), 127);
  EXPECT_EQ(wrap_int8(256 + 5), 5);
  EXPECT_EQ(range_magnitude(-7), 7u);
  EXPECT_EQ(range_magnitude(INT32_MIN), 0u);  // torch.abs wraps it to a negative number
  EXPECT_EQ(range_magnitude(INT32_MAX), 2147483647u);
}

TEST(NitiRounding, RoundShiftIsNearestAwayAndPstoShiftIsNitiPsr) {
  for (int s = 1; s <= 17; ++s)
    for (std::int64_t x = -70000; x <= 70000; ++x) {
      ASSERT_EQ(round_shift64(x, s, kTrunc), formats_round(x, s, Rounding::nearest_away))
          << x << " >> " << s;
      ASSERT_EQ(psto_shift64(x, s, kTrunc), formats_round(x, s, Rounding::niti_psr))
          << x << " >> " << s;
    }
  // The 32-bit accumulators' whole range, sampled.
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 200000; ++i) {
    const std::int64_t x = any(rng);
    const int s = 1 + i % 40;
    ASSERT_EQ(round_shift64(x, s, kTrunc), formats_round(x, s, Rounding::nearest_away)) << x;
    ASSERT_EQ(psto_shift64(x, s, kTrunc), formats_round(x, s, Rounding::niti_psr)) << x;
  }
}

// The element loops compute in 32 bits for s <= 30: the same function of x.
TEST(NitiRounding, Int32AndInt64AgreeUnderBothDivisions) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int32_t> any(INT32_MIN, INT32_MAX);
  const std::int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX};
  for (Division d : {kTrunc, kFloor})
    for (int i = 0; i < 300000; ++i) {
      const std::int32_t x = i < 7 * 30 ? edges[i / 30] : any(rng);
      const int s = 1 + i % 30;
      ASSERT_EQ(round_shift<std::int32_t>(x, s, d), round_shift<std::int64_t>(x, s, d)) << x;
      ASSERT_EQ(psto_shift<std::int32_t>(x, s, d), psto_shift<std::int64_t>(x, s, d)) << x;
      const auto u = std::uint32_t(i) & ((1u << s) - 1);
      ASSERT_EQ(sto_shift<std::int32_t>(x, s, u, d), sto_shift<std::int64_t>(x, s, u, d)) << x;
    }
}

TEST(NitiRounding, RangeBitsIsCeilLog2OfTheFp32Maximum) {
  EXPECT_EQ(range_bits(0), 0);
  EXPECT_EQ(range_bits(1), 0);
  EXPECT_EQ(range_bits(2), 1);
  EXPECT_EQ(range_bits(3), 2);
  EXPECT_EQ(range_bits(128), 7);  // act_calc: no shift, 128 wraps to -128
  EXPECT_EQ(range_bits(129), 8);
  EXPECT_EQ(range_bits((1u << 24) + 1), 24);  // fp32 rounds 2^24 + 1 to 2^24 (a tie, to even)
  EXPECT_EQ(range_bits((1u << 24) + 2), 25);
  EXPECT_EQ(range_bits((1u << 25) + 2), 25);  // rounds down to 2^25
  EXPECT_EQ(range_bits((1u << 25) + 3), 26);  // rounds up to 2^25 + 4
  EXPECT_EQ(range_bits(2147483647u), 31);     // fp32: 2^31
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::uint32_t> any(1, 2147483647u);
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t m = i < 64 ? (1u << (i % 31)) + std::uint32_t(i / 31) - 1 : any(rng);
    if (m == 0) continue;
    int e = 0;
    const float f = std::frexp(static_cast<float>(m), &e);
    ASSERT_EQ(range_bits(m), f == 0.5f ? e - 1 : e) << m;
  }
}

}  // namespace
}  // namespace lpsim::schemes::niti
