// docs/semantics.md §4 as data: what each float encoding gives for a finite overflow (2 * max) and
// for an infinite input, under every overflow policy and rounding mode, on both implementations.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/formats/proof_support.hpp"

namespace lpsim {
namespace {

// One letter per mode, in the order of test::kAllModes (nearest-even, nearest-away, toward-zero,
// up, down, odd, stochastic, niti-psr): I = ±inf, M = ±max, N = NaN.
struct Row {
  const char* format;
  Overflow policy;
  const char* positive;  // for +2max
  const char* negative;  // for -2max
  char infinite_input;   // for ±inf
};

constexpr Row kTable[] = {
    {"e5m2", Overflow::to_inf, "IIMIMMII", "IIMMIMII", 'I'},
    {"e5m2", Overflow::to_nan, "NNNNNNNN", "NNNNNNNN", 'I'},
    {"e5m2", Overflow::saturate, "MMMMMMMM", "MMMMMMMM", 'M'},
    {"e4m3", Overflow::to_inf, "NNMNMMNN", "NNMMNMNN", 'N'},
    {"e4m3", Overflow::to_nan, "NNNNNNNN", "NNNNNNNN", 'N'},
    {"e4m3", Overflow::saturate, "MMMMMMMM", "MMMMMMMM", 'M'},
    {"e4m3fnuz", Overflow::to_inf, "NNMNMMNN", "NNMMNMNN", 'N'},
    {"e4m3fnuz", Overflow::to_nan, "NNNNNNNN", "NNNNNNNN", 'N'},
    {"e4m3fnuz", Overflow::saturate, "MMMMMMMM", "MMMMMMMM", 'M'},
    {"e2m1", Overflow::to_inf, "MMMMMMMM", "MMMMMMMM", 'M'},
    {"e2m1", Overflow::to_nan, "MMMMMMMM", "MMMMMMMM", 'M'},
    {"e2m1", Overflow::saturate, "MMMMMMMM", "MMMMMMMM", 'M'},
};

char classify(const FloatFormat& f, std::uint64_t code) {
  if (f.is_inf(code)) return 'I';
  if (f.is_nan(code)) return 'N';
  if ((code & ~f.sign_bit()) == f.max_finite_code()) return 'M';
  return '?';
}

TEST(SemanticsTable, OverflowPerEncodingPolicyAndMode) {
  for (const Row& row : kTable) {
    const FloatFormat f = std::get<FloatFormat>(parse_scalar_format(row.format));
    const double twice_max = 2 * to_double(f, f.max_finite_code());
    for (int m = 0; m < 8; ++m) {
      ConvertPolicy p;
      p.rounding.mode = test::kAllModes[m];
      p.overflow = row.policy;
      for (bool negative : {false, true}) {
        const double x = negative ? -twice_max : twice_max;
        const char expected = (negative ? row.negative : row.positive)[m];
        const EncodeResult fast = encode(f, unpack_f64(x), p);
        const EncodeResult truth = ref::round_to(f, ref::value_of_f64(x), p);
        const std::string where = std::string(row.format) + " " + test::show(p) + (negative ? " -2max" : " +2max");
        EXPECT_EQ(classify(f, fast.code), expected) << "formats: " << where;
        EXPECT_EQ(classify(f, truth.code), expected) << "reference: " << where;
        EXPECT_EQ(fast.flags, flag::overflow | flag::inexact) << where;
        EXPECT_EQ(truth.flags, flag::overflow | flag::inexact) << where;
        if (expected != 'N') {
          EXPECT_EQ(f.is_negative(fast.code), negative) << where;
        }

        const double inf = negative ? -INFINITY : INFINITY;
        EXPECT_EQ(classify(f, encode(f, unpack_f64(inf), p).code), row.infinite_input) << where;
        EXPECT_EQ(classify(f, ref::round_to(f, ref::value_of_f64(inf), p).code), row.infinite_input) << where;
      }
    }
  }
}

// The OCP E4M3 boundary as ml_dtypes reports it: 464 -> 448, 465 -> NaN (to-inf), 465 -> 448 (saturate).
TEST(SemanticsTable, E4m3OverflowBoundary) {
  const FloatFormat e4m3 = *find_float_preset("e4m3");
  ConvertPolicy to_inf, saturate;
  saturate.overflow = Overflow::saturate;
  EXPECT_EQ(encode(e4m3, unpack_f32(464.0f), to_inf).code, 0x7Eu);
  EXPECT_EQ(encode(e4m3, unpack_f32(465.0f), to_inf).code, 0x7Fu);
  EXPECT_EQ(encode(e4m3, unpack_f32(-465.0f), to_inf).code, 0xFFu);
  EXPECT_EQ(encode(e4m3, unpack_f32(465.0f), saturate).code, 0x7Eu);
  EXPECT_EQ(encode(e4m3, unpack_f32(1e9f), saturate).code, 0x7Eu);
}

}  // namespace
}  // namespace lpsim
