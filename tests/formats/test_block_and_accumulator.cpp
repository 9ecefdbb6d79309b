// Shared-exponent formats and accumulator policies against the reference
// (docs/semantics.md §8, §9).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/formats/proof_support.hpp"

namespace lpsim {
namespace {

std::vector<float> tensor(std::size_t n, std::uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> out(n);
  for (float& x : out) x = normal(rng);
  return out;
}

TEST(BlockFormats, WorkedExponents) {
  BlockFormat dfp16 = std::get<BlockFormat>(parse_format("dfp16"));
  // GxM FPHW: frexp(3.0) = 0.75 * 2^2 -> e' = 2 - (15 - 2) = -11.
  EXPECT_EQ(shared_exponent(dfp16, 3.0f), -11);
  BlockFormat niti = std::get<BlockFormat>(parse_format("block:int8:sym:niti"));
  EXPECT_EQ(shared_exponent(niti, 4.0f), 2 - 7);   // ceil(log2 4) = 2
  EXPECT_EQ(shared_exponent(niti, 4.5f), 3 - 7);
  BlockFormat wage = std::get<BlockFormat>(parse_format("block:int8:wageubn"));
  EXPECT_EQ(shared_exponent(wage, 1.41f), 0 - 7);  // below sqrt(2): rounds to 2^0
  EXPECT_EQ(shared_exponent(wage, 1.42f), 1 - 7);
  BlockFormat mxfp8 = std::get<BlockFormat>(parse_format("mxfp8"));
  EXPECT_EQ(shared_exponent(mxfp8, 448.0f), 0);     // floor(log2 448) = 8 = emax of E4M3
  EXPECT_EQ(shared_exponent(mxfp8, 0.0f), -127);
  EXPECT_EQ(shared_exponent(mxfp8, NAN), kNanScale);
  for (const char* name : {"dfp16", "block:int8:sym:niti", "block:int8:wageubn", "mxfp8",
                           "mxfp6:e2m3", "mxfp4", "mxint8"}) {
    const BlockFormat f = std::get<BlockFormat>(parse_format(name));
    for (float amax : {0.0f, 1e-40f, 0.3f, 1.0f, 1.4142135f, 1.4142137f, 7.0f, 65504.0f, 3e38f})
      EXPECT_EQ(shared_exponent(f, amax), ref::shared_exponent(f, amax)) << name << " " << amax;
  }
}

TEST(BlockFormats, QuantizeMatchesReference) {
  const std::size_t rows = 5, cols = 70;  // 70 = two full MX blocks of 32 and a partial one
  for (const char* name : {"dfp16", "dfp8:row", "block:int8:sym:niti", "block:int8:wageubn:block=16",
                           "mxfp8", "mxfp8:e5m2", "mxfp6", "mxfp6:e2m3", "mxfp4", "mxint8"}) {
    const BlockFormat f = std::get<BlockFormat>(parse_format(name));
    for (Rounding mode : {Rounding::nearest_even, Rounding::stochastic, Rounding::toward_zero}) {
      std::vector<float> in = tensor(rows * cols, 11, 2.5f);
      in[3] = 0.0f;
      for (std::size_t c = 0; c < cols; ++c) in[2 * cols + c] = 0.0f;  // an all-zero row
      in[4 * cols + 40] = NAN;                                          // a NaN block (mx)
      ConvertPolicy p;
      p.rounding.mode = mode;
      p.rounding.seed = 8;
      p.overflow = f.rule == ExponentRule::mx ? Overflow::saturate : Overflow::to_inf;
      const std::size_t blocks = block_count(f, rows, cols);
      std::vector<std::uint64_t> codes(in.size());
      std::vector<int> exponents(blocks);
      std::vector<float> values(in.size());
      quantize_block(f, in, rows, cols, codes, exponents, values, p, 100);
      const ref::BlockReference truth = ref::quantize_block(f, in, rows, cols, p, 100);
      EXPECT_EQ(exponents, truth.exponents) << name;
      EXPECT_EQ(codes, truth.codes) << name;
      ASSERT_EQ(values.size(), truth.dequantized.size());
      for (std::size_t i = 0; i < values.size(); ++i)
        EXPECT_TRUE(std::bit_cast<std::uint32_t>(values[i]) == std::bit_cast<std::uint32_t>(truth.dequantized[i]))
            << name << " element " << i << ": " << values[i] << " vs " << truth.dequantized[i];
    }
  }
}

// Ties, signed zeros, tiny values and the ends of the element range, in shared-exponent fixed
// point under nearest-even: codes, values and counts equal element-wise encode() and the reference.
TEST(BlockFormats, FixedPointTiesAndCountsMatchEncode) {
  for (const char* name : {"dfp16", "dfp8:row", "block:int8:sym:niti", "block:q1.6:niti:block=8"}) {
    const BlockFormat f = std::get<BlockFormat>(parse_format(name));
    const FixedFormat element = std::get<FixedFormat>(f.element);
    std::vector<float> in = {3.0f, -0.0f, 0.0f, 1e-40f, -1e-30f};
    const int x = shared_exponent(f, 3.0f);
    for (double k : {0.5, 1.5, 2.5, 100.5, 101.5, double(element.max_int()) - 0.5})
      for (double sign : {1.0, -1.0}) in.push_back(static_cast<float>(sign * std::ldexp(k, x - element.frac_bits)));
    while (in.size() % 8 != 0) in.push_back(0.25f);
    const std::size_t cols = in.size();
    ConvertPolicy p;  // nearest-even, to-inf (saturate for fixed point)
    std::vector<std::uint64_t> codes(cols);
    std::vector<int> exponents(block_count(f, 1, cols));
    std::vector<float> values(cols);
    const BlockResult got = quantize_block(f, in, 1, cols, codes, exponents, values, p);
    const ref::BlockReference truth = ref::quantize_block(f, in, 1, cols, p);
    EXPECT_EQ(codes, truth.codes) << name;
    ConversionCounts expected;
    for (std::size_t i = 0; i < cols; ++i) {
      const int block_exponent = exponents[f.scope == BlockScope::block ? i / f.block_size : 0];
      Unpacked u = unpack_f32(in[i]);
      u.exp -= block_exponent;
      const EncodeResult r = encode(element, u, p, i);
      EXPECT_EQ(codes[i], r.code) << name << " element " << i;
      EXPECT_EQ(values[i], static_cast<float>(std::ldexp(to_double(element, r.code), block_exponent)));
      count(expected, element, r, u.cls == ValueClass::finite);
    }
    EXPECT_EQ(got.counts, expected) << name;
    EXPECT_GT(expected.inexact, 0u);
    EXPECT_GT(expected.flushed_to_zero, 0u);
  }
}

std::vector<std::int32_t> fill(std::size_t n, std::uint64_t seed, std::int32_t lo, std::int32_t hi) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> d(lo, hi);
  std::vector<std::int32_t> out(n);
  for (auto& x : out) x = d(rng);
  return out;
}

TEST(Accumulators, DotMatchesReference) {
  std::uint64_t wraps = 0, saturations = 0;
  for (const char* spec_text : {"acc:exact", "acc:int32:wrap", "acc:int32:sat", "acc:int32:sat:group=2",
                                "acc:int32:sat:group=4", "acc:int32:wrap:flush=256",
                                "acc:int32:wrap:group=2:flush=16", "acc:int16:wrap", "acc:int24:sat",
                                "acc:int32:sat:group=32:fp32-epilogue", "acc:int32:wrap:fp32-epilogue"}) {
    const AccumulatorSpec spec = parse_accumulator(spec_text);
    for (std::size_t n : {1u, 2u, 3u, 17u, 256u, 257u, 1000u}) {
      const std::vector<std::vector<std::int32_t>> fills = {
          fill(n, 1, -3, 3),             // every partial sum exact: all policies agree
          fill(n, 2, -32768, 32767),     // full-range int16: overflows int32 after a few hundred
          std::vector<std::int32_t>(n, -32768),  // (-32768)^2 * 2 wraps an int32 pair sum
      };
      for (std::size_t f = 0; f < fills.size(); ++f) {
        const auto& a = fills[f];
        const auto b = f == 1 ? fill(n, 3, -32768, 32767) : a;
        const DotResult fast = dot(spec, a, b, -7);
        const ref::DotReference truth = ref::dot(spec, a, b, -7);
        const std::string where = std::string(spec_text) + " n=" + std::to_string(n) + " fill " + std::to_string(f);
        if (!spec.exact) {
          EXPECT_EQ(ref::Integer(fast.integer), truth.integer) << where;
        }
        EXPECT_EQ(std::bit_cast<std::uint32_t>(fast.total), std::bit_cast<std::uint32_t>(truth.total))
            << where << ": " << fast.total << " vs " << truth.total;
        EXPECT_EQ(fast.wraps, truth.wraps) << where;
        EXPECT_EQ(fast.saturations, truth.saturations) << where;
        wraps += fast.wraps;
        saturations += fast.saturations;
      }
    }
  }
  EXPECT_GT(wraps, 0u);
  EXPECT_GT(saturations, 0u);
}

// vpdpwssds adds the pair's exact sum, then saturates once per instruction, so the grouping
// of products is part of a saturating accumulator's contract.
TEST(Accumulators, SaturationGranularityIsPartOfTheContract) {
  const std::vector<std::int32_t> a = {-32768, -32768, -32768, -32768}, b = a;
  EXPECT_EQ(dot(parse_accumulator("acc:int32:sat:group=2"), a, b).integer, INT32_MAX);  // 2^31 clamps
  EXPECT_EQ(dot(parse_accumulator("acc:int32:wrap:group=2"), a, b).integer, 0);          // 2^32 wraps
  // 46341^2 = 2147488281 > INT32_MAX: per-product saturation clamps before the negative term.
  const std::vector<std::int32_t> c = {46341, 46341, -46341}, d = {46341, 46341, 46341};
  EXPECT_EQ(dot(parse_accumulator("acc:int32:sat"), c, d).integer, 2147483647ll - 2147488281ll);
  EXPECT_EQ(dot(parse_accumulator("acc:int32:sat:group=4"), c, d).integer, INT32_MAX);
}

// NITI's CUTLASS epilogue: int32 -> fp32 (nearest-even) -> int32, saturating.
TEST(Accumulators, Fp32EpilogueRoundsThroughFloat) {
  const AccumulatorSpec spec = parse_accumulator("acc:int32:sat:fp32-epilogue");
  auto through = [&](std::int32_t x) { return dot(spec, std::vector{x}, std::vector{1}).integer; };
  EXPECT_EQ(through(16777216 + 1), 16777216);         // a tie: to the even 2^24
  EXPECT_EQ(through(16777216 + 3), 16777216 + 4);     // a tie: to the even 2^24 + 4
  EXPECT_EQ(through(16777216 + 5), 16777216 + 4);
  EXPECT_EQ(through(-16777216 - 7), -16777216 - 8);   // nearest
  EXPECT_EQ(through(INT32_MAX), INT32_MAX);           // fp32 2^31 saturates back
  EXPECT_EQ(through(INT32_MIN), INT32_MIN);           // -2^31 is exact
  EXPECT_EQ(through(-8388609), -8388609);             // below 2^24: exact
  EXPECT_EQ(dot(spec, std::vector{16777217}, std::vector{1}).total, 16777216.0f);
}

}  // namespace
}  // namespace lpsim
