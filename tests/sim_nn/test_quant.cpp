// convert(): fp32 statistics, fp16 rounding and counts, block formats' codes and exponents, and
// results independent of the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "formats/syntax.hpp"
#include "sim/nn/quant.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::nn {
namespace {

QTensor tensor(std::vector<float> values) {
  QTensor t;
  t.values.dims = {1, values.size(), 1, 1};
  t.values.data = std::move(values);
  return t;
}

QuantSpec spec(std::string_view format) {
  QuantSpec s;
  s.format = parse_format(format);
  return s;
}

TEST(Convert, Fp32KeepsValuesAndCountsThem) {
  ThreadPool pool(1);
  QTensor t = tensor({0.0f, -0.0f, 1e-40f, -3.5f, NAN, INFINITY, 2.0f});
  const std::vector<float> before = t.values.data;
  TensorStats stats;
  convert(QuantSpec{}, t, {.pool = pool}, &stats);
  EXPECT_EQ(std::memcmp(t.values.data.data(), before.data(), before.size() * 4), 0);
  EXPECT_EQ(stats.elements, 7);
  EXPECT_EQ(stats.max_abs, 3.5);  // finite values only
  EXPECT_EQ(stats.counts.zero, 2u);
  EXPECT_EQ(stats.counts.subnormal, 1u);
  EXPECT_EQ(stats.counts.nan, 1u);
  EXPECT_FALSE(stats.shared_exponent);
}

TEST(Convert, Fp16RoundsAndCounts) {
  ThreadPool pool(1);
  // 1 + 2^-11 is a tie (to 1); 70000 overflows to inf; 2^-20 is subnormal; 2^-26 flushes to 0.
  QTensor t = tensor({1.0f + 0x1p-11f, 70000.0f, 0x1p-20f, 0x1p-26f, 0.5f});
  TensorStats stats;
  convert(spec("fp16"), t, {.pool = pool}, &stats);
  EXPECT_EQ(t.values.data, (std::vector<float>{1.0f, INFINITY, 0x1p-20f, 0.0f, 0.5f}));
  EXPECT_EQ(stats.max_abs, 70000.0);  // before conversion
  EXPECT_EQ(stats.counts.overflow, 1u);
  EXPECT_EQ(stats.counts.subnormal, 1u);
  EXPECT_EQ(stats.counts.flushed_to_zero, 1u);
  EXPECT_EQ(stats.counts.zero, 1u);
  EXPECT_EQ(stats.counts.inexact, 3u);
  EXPECT_EQ(to_string(spec("fp16")), "fp16:nearest-even:to-inf");
}

TEST(Convert, BlockFormatKeepsCodesAndExponent) {
  ThreadPool pool(1);
  QTensor t = tensor({1.0f, -0.75f, 0.001f, 0.5f});
  QuantSpec dfp = spec("dfp16");
  dfp.keep_codes = true;
  TensorStats stats;
  convert(dfp, t, {.pool = pool}, &stats);
  ASSERT_EQ(t.exponents.size(), 1u);
  EXPECT_EQ(stats.shared_exponent, t.exponents[0]);
  ASSERT_EQ(t.codes.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(double(t.codes[i]) * std::ldexp(1.0, t.exponents[0]), double(t.values.data[i])) << i;
  // Das' rule with add_shift 2: max 1.0 = 2^0 gives codes of 13 magnitude bits, 1.0 -> 4096.
  EXPECT_EQ(t.codes[0], 4096);
  EXPECT_EQ(t.exponents[0], -12);
  // Converting again to fp32 drops the codes and exponent.
  convert(QuantSpec{}, t, {.pool = pool}, nullptr);
  EXPECT_TRUE(t.codes.empty());
  EXPECT_TRUE(t.exponents.empty());
}

TEST(Convert, RowScopeBlocksKeepAnExponentPerRow) {
  ThreadPool pool(1);
  QTensor t;
  t.values.dims = {2, 2, 1, 1};  // rows: the first dimension
  t.values.data = {1.0f, 0.5f, 64.0f, 3.0f};
  TensorStats stats;
  convert(spec("dfp16:row"), t, {.pool = pool}, &stats);
  EXPECT_EQ(t.exponents, (std::vector<int>{-12, -6}));
  EXPECT_FALSE(stats.shared_exponent);
}

TEST(Convert, SameResultForAnyThreadCount) {
  std::vector<float> values(200000);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = std::ldexp(float(i % 1000) - 500.0f, int(i % 40) - 30);
  QuantSpec sr = spec("fp16");
  sr.policy.rounding.mode = Rounding::stochastic;
  sr.policy.rounding.seed = 11;
  TensorStats expected;
  std::vector<float> expected_values;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    QTensor t = tensor(values);
    TensorStats stats;
    convert(sr, t, {.pool = pool, .first_index = 12345}, &stats);
    if (threads == 1) {
      expected = stats;
      expected_values = t.values.data;
      continue;
    }
    EXPECT_EQ(t.values.data, expected_values) << threads;
    EXPECT_EQ(stats.counts, expected.counts) << threads;
    EXPECT_EQ(stats.max_abs, expected.max_abs) << threads;
  }
}

}  // namespace
}  // namespace lpsim::nn
