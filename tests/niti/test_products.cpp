// NITI's int8 products (sim/schemes/niti/int_gemm.hpp): exact where no sum can leave the
// accumulator, equal to reference/gemm.hpp under wrap and saturation where the product orders
// coincide, in NITI's own order (taps outer, channels padded to 16 inner) where they do not, the
// fp32 epilogue rounding above 2^24, and the same bits for 1 and 2 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "formats/syntax.hpp"
#include "reference/gemm.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/niti/int_gemm.hpp"

namespace lpsim::schemes::niti {
namespace {

std::vector<std::int8_t> random_codes(std::size_t n, int limit, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(-limit, limit);
  std::vector<std::int8_t> v(n);
  for (auto& c : v) c = std::int8_t(code(rng));
  return v;
}

std::vector<std::int32_t> widen(const std::vector<std::int8_t>& v) { return {v.begin(), v.end()}; }

std::vector<std::int32_t> narrow(const std::vector<std::int64_t>& v) {
  return {v.begin(), v.end()};
}

struct Conv {
  nn::ConvGeometry g;
  std::vector<std::int8_t> x, w, dy;
};

Conv random_conv(const nn::ConvGeometry& g, int limit, std::mt19937& rng) {
  const std::size_t out = std::size_t(g.batch) * g.filters * g.out_height() * g.out_width();
  return {g, random_codes(std::size_t(g.batch) * g.channels * g.height * g.width, limit, rng),
          random_codes(std::size_t(g.filters) * g.patch(), limit, rng),
          random_codes(out, limit, rng)};
}

// The three products of `c` under `spec` with `threads` threads.
struct Products {
  std::vector<std::int32_t> y, dx, dw;
  AccumulationStats stats;
};

Products run(const AccumulatorSpec& spec, const Conv& c, int threads) {
  nn::ThreadPool pool(threads);
  Products p;
  p.y.resize(c.dy.size());
  p.dx.resize(c.x.size());
  p.dw.resize(c.w.size());
  conv_forward(spec, c.g, c.x.data(), c.w.data(), p.y.data(), pool, p.stats);
  conv_backward_data(spec, c.g, c.dy.data(), c.w.data(), p.dx.data(), pool, p.stats);
  conv_weight_grad(spec, c.g, c.x.data(), c.dy.data(), p.dw.data(), pool, p.stats);
  return p;
}

TEST(NitiProducts, ConvolutionsAreExactBelowTheAccumulatorRange) {
  std::mt19937 rng(11);
  const AccumulatorSpec exact = parse_accumulator("acc:int64:wrap");
  for (const nn::ConvGeometry& g :
       {nn::ConvGeometry{3, 1, 12, 12, 6, 5, 1, 2}, nn::ConvGeometry{2, 6, 9, 9, 16, 5, 1, 0},
        nn::ConvGeometry{2, 3, 7, 8, 4, 3, 2, 1}, nn::ConvGeometry{9, 5, 4, 4, 3, 1, 1, 0}}) {
    const Conv c = random_conv(g, 127, rng);
    const Conv2dShape s = nn::to_conv2d_shape(g, g.batch);
    for (const char* policy : {"acc:int32:sat:group=16:fp32-epilogue", "acc:int32:wrap"}) {
      SCOPED_TRACE(to_string(s) + " " + policy);
      const Products p = run(parse_accumulator(policy), c, 1);
      EXPECT_EQ(p.y, narrow(ref::conv2d_forward(exact, s, widen(c.x), widen(c.w)).integer));
      EXPECT_EQ(p.dx, narrow(ref::conv2d_backward_data(exact, s, widen(c.dy), widen(c.w)).integer));
      EXPECT_EQ(p.dw, narrow(ref::conv2d_weight_grad(exact, s, widen(c.x), widen(c.dy)).integer));
      EXPECT_EQ(p.stats.exact_outputs, 0);  // every bound holds: the fast path alone
    }
  }
}

// With 1 x 1 kernels and 16 channels NITI's order is reference/gemm.hpp's (forward: c;
// backward-data: k; weight gradient with 16 images of 1 pixel: n), so a 16-bit saturating
// accumulator, which most outputs overflow, must give the reference's bits and counts.
TEST(NitiProducts, SaturationMatchesTheReferenceWhereTheOrdersCoincide) {
  std::mt19937 rng(12);
  const nn::ConvGeometry g{16, 16, 1, 1, 16, 1, 1, 0};
  const Conv c = random_conv(g, 127, rng);
  const Conv2dShape s = nn::to_conv2d_shape(g, g.batch);
  for (const char* policy : {"acc:int16:sat:group=16", "acc:int16:sat", "acc:int16:wrap"}) {
    SCOPED_TRACE(policy);
    const AccumulatorSpec spec = parse_accumulator(policy);
    const Products p = run(spec, c, 1);
    const ref::GemmReference y = ref::conv2d_forward(spec, s, widen(c.x), widen(c.w)),
                             dx = ref::conv2d_backward_data(spec, s, widen(c.dy), widen(c.w)),
                             dw = ref::conv2d_weight_grad(spec, s, widen(c.x), widen(c.dy));
    EXPECT_EQ(p.y, narrow(y.integer));
    EXPECT_EQ(p.dx, narrow(dx.integer));
    EXPECT_EQ(p.dw, narrow(dw.integer));
    EXPECT_EQ(p.stats.saturations, std::int64_t(y.saturations + dx.saturations + dw.saturations));
    EXPECT_EQ(p.stats.wraps, std::int64_t(y.wraps + dx.wraps + dw.wraps));
    EXPECT_GT(p.stats.saturations + p.stats.wraps, 20);
  }
}

// A 5 x 5 forward convolution of 3 channels under int16 saturation, against a direct model of
// NITI's order: for each tap (r, s), the channels padded with zeros to 16, one clamp per 16
// products.
TEST(NitiProducts, SaturationFollowsTapsThenPaddedChannels) {
  std::mt19937 rng(13);
  const nn::ConvGeometry g{2, 3, 6, 6, 2, 5, 1, 2};
  const Conv c = random_conv(g, 127, rng);
  const Products p = run(parse_accumulator("acc:int16:sat:group=16"), c, 1);
  int differ_from_exact = 0;
  for (int n = 0; n < g.batch; ++n)
    for (int k = 0; k < g.filters; ++k)
      for (int oh = 0; oh < g.out_height(); ++oh)
        for (int ow = 0; ow < g.out_width(); ++ow) {
          std::int64_t acc = 0, exact = 0;
          for (int r = 0; r < g.kernel; ++r)
            for (int q = 0; q < g.kernel; ++q) {
              std::int64_t group = 0;  // this tap's 16 (3 real) channels
              for (int ch = 0; ch < g.channels; ++ch) {
                const int h = oh + r - g.pad, w = ow + q - g.pad;
                if (h < 0 || h >= g.height || w < 0 || w >= g.width) continue;
                group += std::int64_t{c.x[((n * g.channels + ch) * g.height + h) * g.width + w]} *
                         c.w[((k * g.channels + ch) * g.kernel + r) * g.kernel + q];
              }
              acc = std::clamp<std::int64_t>(acc + group, -32768, 32767);
              exact += group;
            }
          const std::size_t at =
              ((std::size_t(n) * g.filters + k) * g.out_height() + oh) * g.out_width() + ow;
          ASSERT_EQ(p.y[at], acc) << n << " " << k << " " << oh << " " << ow;
          differ_from_exact += acc != exact;
        }
  EXPECT_GT(differ_from_exact, 5);  // the order mattered
}

TEST(NitiProducts, GemmSaturatesAndWrapsAsTheReference) {
  // One dot of 140000 products of 127 * 127 (2.26e9 > 2^31), then signs flipping: a saturating
  // accumulator clamps at 2^31 - 1 on the way and ends elsewhere than the exact sum.
  const int k = 140000;
  std::vector<std::int8_t> a(k, 127), b(k);
  for (int p = 0; p < k; ++p) b[std::size_t(p)] = p < 135000 ? 127 : -127;
  nn::ThreadPool pool(1);
  for (const char* policy : {"acc:int32:sat:group=16", "acc:int32:wrap", "acc:int32:sat"}) {
    SCOPED_TRACE(policy);
    const AccumulatorSpec spec = parse_accumulator(policy);
    std::int32_t c = 0;
    AccumulationStats stats;
    gemm(spec, 1, 1, k, a.data(), b.data(), &c, pool, stats);
    const ref::GemmReference r = ref::gemm(spec, 1, 1, k, widen(a), widen(b));
    EXPECT_EQ(c, r.integer[0]);
    EXPECT_EQ(stats.saturations, std::int64_t(r.saturations));
    EXPECT_EQ(stats.wraps, std::int64_t(r.wraps));
    EXPECT_EQ(stats.exact_outputs, 1);
  }
}

TEST(NitiProducts, Fp32EpilogueRoundsAbove2To24) {
  // Dots of 2^24 + 1 and 2^24 + 7: 1040 products of 127 * 127 plus 127 * 24 and 3 * 3 (or 5 * 3).
  nn::ThreadPool pool(1);
  for (const auto& [last, expected] : {std::pair{3, 16777216}, std::pair{5, 16777224}}) {
    std::vector<std::int8_t> a(1042, 127), b(1042, 127);
    b[1040] = 24;
    a[1041] = std::int8_t(last);
    b[1041] = 3;
    std::int32_t c = 0;
    AccumulationStats stats;
    gemm(parse_accumulator("acc:int32:wrap:fp32-epilogue"), 1, 1, 1042, a.data(), b.data(), &c,
         pool, stats);
    EXPECT_EQ(c, expected);  // ties to even: 2^24 + 1 -> 2^24, 2^24 + 7 -> 2^24 + 8
    EXPECT_EQ(stats.epilogue_rounded, 1);
  }
}

TEST(NitiProducts, SameBitsWithOneAndTwoThreads) {
  std::mt19937 rng(14);
  const Conv c = random_conv({13, 4, 9, 9, 5, 3, 1, 1}, 127, rng);
  for (const char* policy : {"acc:int32:sat:group=16:fp32-epilogue", "acc:int16:sat:group=16"}) {
    SCOPED_TRACE(policy);
    const Products one = run(parse_accumulator(policy), c, 1),
                   two = run(parse_accumulator(policy), c, 2);
    EXPECT_EQ(one.y, two.y);
    EXPECT_EQ(one.dx, two.dx);
    EXPECT_EQ(one.dw, two.dw);
    EXPECT_EQ(one.stats.saturations, two.stats.saturations);
  }
}

TEST(NitiProducts, UnsupportedPolicies) {
  EXPECT_EQ(unsupported(parse_accumulator("acc:int32:sat:group=16:fp32-epilogue")), "");
  EXPECT_NE(unsupported(parse_accumulator("acc:exact")), "");
  EXPECT_NE(unsupported(parse_accumulator("acc:int48:wrap")), "");
  EXPECT_NE(unsupported(parse_accumulator("acc:int32:wrap:flush=256")), "");
}

}  // namespace
}  // namespace lpsim::schemes::niti
