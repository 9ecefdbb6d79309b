// fast::quantize_int16 and fast::finite_max_abs against formats' quantize_block(), bit for bit:
// codes, dequantized values (sign of zero included), counts and the shared exponent, for every
// rounding mode the int16 path takes, on every ISA path this CPU runs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fast/quantize_int16.hpp"
#include "formats/syntax.hpp"

namespace lpsim::fast {
namespace {

constexpr Rounding kModes[] = {
    Rounding::nearest_even, Rounding::nearest_away, Rounding::toward_zero, Rounding::up,
    Rounding::down,         Rounding::odd,          Rounding::stochastic};

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (isa_available(isa)) out.push_back(isa);
  return out;
}

BlockFormat block(const char* text) { return std::get<BlockFormat>(parse_format(text)); }

ConvertPolicy policy(Rounding mode, int random_bits = 32, std::uint64_t seed = 5,
                     std::uint32_t stream = 3) {
  ConvertPolicy p;
  p.rounding.mode = mode;
  p.rounding.random_bits = random_bits;
  p.rounding.seed = seed;
  p.rounding.stream = stream;
  return p;
}

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

// Converts `in` both ways (tensor scope) and compares everything; in place too.
void expect_same_as_quantize_block(const BlockFormat& f, const std::vector<float>& in,
                                   const ConvertPolicy& p, std::uint64_t first_index,
                                   const std::string& what) {
  const auto& element = std::get<FixedFormat>(f.element);
  ASSERT_TRUE(int16_quantizable(element, p)) << what;
  std::vector<std::uint64_t> want_codes(in.size());
  std::vector<float> want_values(in.size());
  int want_exponent = 0;
  const BlockResult want = quantize_block(f, in, 1, in.size(), want_codes, {&want_exponent, 1},
                                          want_values, p, first_index);
  for (Isa isa : runnable_isas()) {
    const std::string where = what + " on " + std::string(to_string(isa));
    const float amax = finite_max_abs(in, isa);
    const int exponent = shared_exponent(f, amax);
    ASSERT_EQ(exponent, want_exponent) << where << ": max |x| " << amax;
    std::vector<std::int16_t> codes(in.size());
    std::vector<float> values(in.size());
    const ConversionCounts counts =
        quantize_int16(element, exponent, in, codes, values, p, first_index, isa);
    EXPECT_EQ(counts, want.counts) << where;
    for (std::size_t i = 0; i < in.size(); ++i) {
      ASSERT_EQ(codes[i], element.to_int(want_codes[i]))
          << where << ", element " << i << " = " << in[i];
      ASSERT_EQ(bits(values[i]), bits(want_values[i]))
          << where << ", element " << i << " = " << in[i] << ": " << values[i] << " vs "
          << want_values[i];
    }
    std::vector<float> in_place = in;  // dequantized over the input, without codes
    EXPECT_EQ(quantize_int16(element, exponent, in_place, {}, in_place, p, first_index, isa),
              want.counts)
        << where;
    for (std::size_t i = 0; i < in.size(); ++i)
      ASSERT_EQ(bits(in_place[i]), bits(want_values[i])) << where << " in place, element " << i;
  }
}

// Normal values over many binades, both signs, some exact zeros and f32 subnormals.
std::vector<float> spread(std::size_t n, std::uint64_t seed, int min_exp = -30, int max_exp = 4) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> significand(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(min_exp, max_exp), pick(0, 99);
  std::vector<float> out(n);
  for (float& x : out) {
    const int kind = pick(rng);
    if (kind < 3)
      x = kind == 0 ? 0.0f : -0.0f;
    else if (kind < 5)
      x = float(std::ldexp(significand(rng), -140));  // subnormal
    else
      x = float(std::ldexp(significand(rng), exponent(rng)));
    if (pick(rng) < 50) x = -x;
  }
  return out;
}

// Values that scale to exact halves (ties) and their f32 neighbours, around codes of both signs.
std::vector<float> ties(const BlockFormat& f, float amax) {
  const auto& element = std::get<FixedFormat>(f.element);
  const int exponent = shared_exponent(f, amax);
  std::vector<float> out = {amax, -amax};
  for (double k : {0.0, 1.0, 2.0, 3.0, 100.0, 101.0, 8191.0, 8190.0, 4095.0})
    for (double sign : {1.0, -1.0}) {
      const float tie = float(std::ldexp(sign * (k + 0.5), exponent - element.frac_bits));
      if (!(std::fabs(tie) <= amax)) continue;
      out.insert(out.end(), {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 2 * tie),
                             float(std::ldexp(sign * k, exponent - element.frac_bits))});
    }
  return out;
}

TEST(QuantizeInt16, MatchesQuantizeBlockOnSpreadValues) {
  for (const char* name : {"dfp16", "block:int16:das:shift=0", "block:int8:sym:niti",
                           "block:int16:wageubn", "block:int8:das:shift=1"}) {
    const BlockFormat f = block(name);
    for (Rounding mode : kModes)
      for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 511u, 512u, 513u, 1500u})
        expect_same_as_quantize_block(
            f, spread(n, n + 17), policy(mode), 1000003,
            std::string(name) + " " + std::string(to_string(mode)) + " n=" + std::to_string(n));
  }
}

TEST(QuantizeInt16, TiesAndTheirNeighbours) {
  for (const char* name : {"dfp16", "block:int16:das:shift=0", "block:int8:sym:niti"})
    for (float amax : {1.0f, 3.0f, 0.7f, 1e-3f, 2.5e4f}) {
      const BlockFormat f = block(name);
      std::vector<float> in = ties(f, amax);
      in.resize(in.size() + 19, 0.25f * amax);  // and a vector-sized run without specials
      for (Rounding mode : kModes)
        expect_same_as_quantize_block(f, in, policy(mode), 0,
                                      std::string(name) + " " + std::string(to_string(mode)) +
                                          " amax=" + std::to_string(amax));
    }
}

TEST(QuantizeInt16, SaturatesAtTheRangeEnds) {
  // With no headroom (das shift 0, niti, wageubn) the largest values round to 2^15, one past the
  // largest code; symmetric int8 also clips -128.
  for (const char* name : {"block:int16:das:shift=0", "block:int16:niti", "block:int16:wageubn",
                           "block:int8:sym:niti", "block:int8:das:shift=0"}) {
    const BlockFormat f = block(name);
    const auto& element = std::get<FixedFormat>(f.element);
    const double top = double(element.max_int());
    for (Rounding mode : kModes) {
      std::vector<float> in;
      for (double scale : {1.0, 0.125, 1024.0})
        for (double k : {top, top + 0.25, top + 0.5, top + 0.75, top - 0.5})
          for (double sign : {1.0, -1.0}) in.push_back(float(sign * k * scale));
      in.resize(40, float(top * 0.3));
      expect_same_as_quantize_block(f, in, policy(mode), 77,
                                    std::string(name) + " " + std::string(to_string(mode)));
    }
  }
}

TEST(QuantizeInt16, NanInfinitiesZerosAndTinyTensors) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float max = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<std::vector<float>> tensors = {
      {nan, -nan, inf, -inf, 0.0f, -0.0f, 1.5f, -2.0f, 0.3f, -0.7f, 1e-30f, -1e-30f, 5.0f},
      std::vector<float>(20, nan),
      std::vector<float>(20, -0.0f),
      {inf, -inf, -inf, inf, inf, inf, inf, inf, inf, 0.0f},
      {max, -max, max / 3, 1.0f, -1e30f, 1e-30f, 0.0f, -0.0f, 2e38f, -3e37f, 7.0f},
      {tiny, -tiny, 3 * tiny, 1e-40f, -1e-39f, 0.0f, 2 * tiny, -5 * tiny, 1e-44f, 9e-41f},
  };
  for (const char* name : {"dfp16", "block:int16:das:shift=0", "block:int8:sym:niti"})
    for (Rounding mode : kModes)
      for (std::size_t t = 0; t < tensors.size(); ++t) {
        std::vector<float> in = tensors[t];
        in.insert(in.end(), tensors[t].begin(), tensors[t].end());  // specials in vector groups
        expect_same_as_quantize_block(block(name), in, policy(mode), 3,
                                      std::string(name) + " " + std::string(to_string(mode)) +
                                          " tensor " + std::to_string(t));
      }
}

TEST(QuantizeInt16, StochasticRandomNumbersFollowTheElementIndex) {
  const BlockFormat f = block("dfp16");
  const std::vector<float> in = spread(1100, 9, -12, 2);
  for (int random_bits : {1, 7, 32})
    for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3},
                                std::uint64_t{5} << 36, (std::uint64_t{1} << 40) + 2})
      expect_same_as_quantize_block(
          f, in, policy(Rounding::stochastic, random_bits, 0xabcdef, 9), first,
          "random bits " + std::to_string(random_bits) + " first " + std::to_string(first));
}

TEST(QuantizeInt16, FractionalElements) {
  // Q-format elements: codes count 2^-frac_bits quanta of the shared scale.
  const BlockFormat f{.element = FixedFormat{7, 8, true, false}, .rule = ExponentRule::das};
  for (Rounding mode : kModes)
    expect_same_as_quantize_block(f, spread(300, 4), policy(mode), 0,
                                  "q7.8 " + std::string(to_string(mode)));
}

TEST(QuantizeInt16, FiniteMaxAbsSkipsNanAndInfinities) {
  std::vector<float> in(37, 0.5f);
  in[3] = -7.0f;
  in[10] = std::numeric_limits<float>::infinity();
  in[20] = std::numeric_limits<float>::quiet_NaN();
  in[36] = -std::numeric_limits<float>::infinity();
  for (Isa isa : runnable_isas()) {
    EXPECT_EQ(finite_max_abs(in, isa), 7.0f) << to_string(isa);
    in[35] = -9.0f;  // in the scalar tail of the vector path
    EXPECT_EQ(finite_max_abs(in, isa), 9.0f) << to_string(isa);
    in[35] = 0.5f;
    EXPECT_EQ(finite_max_abs({}, isa), 0.0f);
  }
}

TEST(QuantizeInt16, RefusesWhatItDoesNotCompute) {
  const FixedFormat int16 = FixedFormat::integer(16);
  ConvertPolicy wrap;
  wrap.overflow = Overflow::wrap;
  EXPECT_FALSE(int16_quantizable(int16, wrap));
  EXPECT_FALSE(int16_quantizable(int16, policy(Rounding::niti_psr)));
  EXPECT_FALSE(int16_quantizable(FixedFormat::integer(17), ConvertPolicy{}));
  EXPECT_FALSE(int16_quantizable(FixedFormat::integer(16, false), ConvertPolicy{}));
  EXPECT_TRUE(int16_quantizable(FixedFormat::integer(15, false), ConvertPolicy{}));
  std::vector<float> in(4, 1.0f);
  std::vector<std::int16_t> codes(4);
  EXPECT_THROW(quantize_int16(int16, 0, in, codes, {}, wrap), std::invalid_argument);
  EXPECT_THROW(quantize_int16(int16, 0, in, std::span(codes).first(3), {}, ConvertPolicy{}),
               std::invalid_argument);
}

}  // namespace
}  // namespace lpsim::fast
