// MX quantization along a chosen dimension: quantize_along equals formats' quantize_block on the
// transposed data, written here index by index, for every element format and thread count;
// hand-computed blocks (E8M0 scale, saturation of the top binade); and the weight-gradient engine
// requantizes the kept fp32 operands along the batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "formats/syntax.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scaled/mx_quantizer.hpp"

namespace lpsim::schemes::scaled {
namespace {

using nn::Dims;
using nn::Tensor;

Tensor random_tensor(const Dims& d, std::uint32_t seed, bool specials = true) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> binade(-12, 6);
  Tensor t;
  t.resize(d);
  // Wide magnitudes so that blocks get different scales and some elements underflow; f32
  // subnormals, huge values beside small ones (quotients x / 2^X below FLT_MIN), inf and NaN
  // (NaN scales) in some blocks.
  for (std::size_t i = 0; i < t.size(); ++i) {
    float& v = t.data[i];
    v = std::ldexp(normal(rng), binade(rng));
    if (!specials) continue;
    if (i % 101 == 7) v = -1e-39f;
    if (i % 211 == 3) v = 1e30f;
    if (i % 1009 == 5) v = -std::numeric_limits<float>::infinity();
    if (i % 1013 == 9) v = std::numeric_limits<float>::quiet_NaN();
  }
  return t;
}

// The index, in an N x C x H x W tensor, of column l of row r of the layout blocked along `axis`:
// dim1 rows are (n, h, w) and columns c; dim0 rows are (c, h, w) and columns n.
std::size_t tensor_index(const Dims& d, BlockAxis axis, std::size_t r, std::size_t l) {
  if (axis == BlockAxis::dim1) {
    const std::size_t n = r / d.plane(), pixel = r % d.plane();
    return (n * d.c + l) * d.plane() + pixel;
  }
  return l * d.sample() + r;
}

struct Expected {
  Tensor values;
  ConversionCounts counts;
  int min_exponent = 0, max_exponent = 0;
};

// quantize_block on the transposed copy, transposed back.
Expected expected_along(const BlockFormat& f, const ConvertPolicy& p, const Tensor& t,
                        BlockAxis axis, std::uint64_t first_index) {
  const Dims& d = t.dims;
  const std::size_t length = axis == BlockAxis::dim1 ? d.c : d.n;
  const std::size_t rows = t.size() / length;
  std::vector<float> rowwise(t.size()), quantized(t.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t l = 0; l < length; ++l)
      rowwise[r * length + l] = t.data[tensor_index(d, axis, r, l)];
  std::vector<int> exponents(block_count(f, rows, length));
  Expected e;
  e.counts =
      quantize_block(f, rowwise, rows, length, {}, exponents, quantized, p, first_index).counts;
  std::erase(exponents, kNanScale);
  e.min_exponent = *std::min_element(exponents.begin(), exponents.end());
  e.max_exponent = *std::max_element(exponents.begin(), exponents.end());
  e.values = t;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t l = 0; l < length; ++l)
      e.values.data[tensor_index(d, axis, r, l)] = quantized[r * length + l];
  return e;
}

void expect_same_bits(const std::vector<float>& want, const std::vector<float>& got) {
  ASSERT_EQ(want.size(), got.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0 && ++differ < 4)
      ADD_FAILURE() << "[" << i << "]: want " << want[i] << " got " << got[i];
  EXPECT_EQ(differ, 0u);
}

nn::QTensor qtensor(Tensor values) {
  nn::QTensor q;
  q.values = std::move(values);
  return q;
}

BlockFormat mx(const char* text) { return std::get<BlockFormat>(parse_format(text)); }

TEST(QuantizeAlong, EqualsQuantizeBlockOnTheTransposedData) {
  struct Shape {
    Dims dims;
    BlockAxis axis;
  };
  const Shape shapes[] = {
      {{3, 40, 2, 3}, BlockAxis::dim1},   // channels: a block of 32 and one of 8 at each pixel
      {{32, 40, 6, 6}, BlockAxis::dim1},  // several chunks of rows
      {{5, 70, 1, 1}, BlockAxis::dim1},   // dense rows
      {{37, 2, 3, 1}, BlockAxis::dim0},   // along the batch (filters for weights)
      {{70, 8, 6, 6}, BlockAxis::dim0},
  };
  for (const char* format :
       {"mxint8", "mxfp8:e4m3", "mxfp8:e5m2", "mxfp6:e3m2", "mxfp6:e2m3", "mxfp4"}) {
    for (Rounding mode : {Rounding::nearest_even, Rounding::stochastic, Rounding::up}) {
      ConvertPolicy p;
      p.overflow = Overflow::saturate;
      p.rounding.mode = mode;
      p.rounding.seed = 9;
      p.rounding.stream = 4;
      for (const Shape& s : shapes) {
        SCOPED_TRACE(std::string(format) + " " + std::string(lpsim::to_string(mode)) + " " +
                     nn::to_string(s.dims) + " " + std::string(to_string(s.axis)));
        const Tensor t = random_tensor(s.dims, 3);
        const Expected want = expected_along(mx(format), p, t, s.axis, 77);
        for (int threads : {1, 2}) {
          nn::ThreadPool pool(threads);
          Tensor got = t;
          const MxResult r = quantize_along(mx(format), p, got, s.axis, 77, pool);
          expect_same_bits(want.values.data, got.data);
          EXPECT_EQ(std::memcmp(&r.counts, &want.counts, sizeof r.counts), 0);
          EXPECT_TRUE(r.has_exponent);
          EXPECT_EQ(r.min_exponent, want.min_exponent);
          EXPECT_EQ(r.max_exponent, want.max_exponent);
        }
      }
    }
  }
}

// One dense row of `values` through an MxQuantizer along dim1.
std::vector<float> quantize_row(const char* format, std::vector<float> values,
                                nn::TensorStats* stats, std::string_view part = {}) {
  ConvertPolicy p;
  p.overflow = Overflow::saturate;
  MxQuantizer q(mx(format), p, BlockAxis::dim1, false);
  nn::ThreadPool pool(1);
  nn::QTensor t;
  t.values.resize({1, values.size(), 1, 1});
  t.values.data = std::move(values);
  q.apply(t, {.pool = pool, .part = part}, stats);
  return t.values.data;
}

TEST(MxQuantizer, HandComputedBlocks) {
  nn::TensorStats stats;
  // E4M3, amax 3.9: X = floor(log2 3.9) - 8 = -7. 3.9 * 2^7 = 499.2 clips to 448 (3.5);
  // 0.1 * 2^7 = 12.8 -> 13; -1e-3 * 2^7 = -0.128 -> -8 * 2^-6.
  EXPECT_EQ(quantize_row("mxfp8:e4m3", {3.9f, 3.0f, 0.1f, -1e-3f}, &stats),
            (std::vector<float>{3.5f, 3.0f, 13 * 0x1p-7f, -0x1p-10f}));
  EXPECT_EQ(stats.shared_exponent, -7);
  EXPECT_EQ(stats.counts.saturated, 1u);
  EXPECT_EQ(stats.max_abs, 3.9f);
  // E2M1, amax 6.5: X = 2 - 2 = 0. 6.5 clips to 6; 0.3 -> 0.5; -0.2 -> -0.
  const std::vector<float> fp4 = quantize_row("mxfp4", {6.5f, 1.0f, 0.3f, -0.2f}, &stats);
  EXPECT_EQ(fp4, (std::vector<float>{6, 1, 0.5f, 0}));
  EXPECT_TRUE(std::signbit(fp4[3]));
  EXPECT_EQ(stats.shared_exponent, 0);
  // MXINT8 (q1.6), amax 1.999: X = 0 - 0. 1.999 * 64 = 127.9 rounds to 128 and clips to 127;
  // -0.3 * 64 = -19.2 -> -19.
  EXPECT_EQ(quantize_row("mxint8", {1.999f, -0.3f}, &stats),
            (std::vector<float>{127 / 64.0f, -19 / 64.0f}));
  EXPECT_EQ(stats.counts.saturated, 1u);
  // Two blocks of 32 along the row: the second, all zero, takes the smallest scale 2^-127.
  std::vector<float> two_blocks(40, 0.0f);
  two_blocks[0] = 1;
  quantize_row("mxfp8:e4m3", two_blocks, &stats);
  EXPECT_EQ(stats.shared_exponent, -8);
  ASSERT_EQ(stats.extras.size(), 1u);
  EXPECT_EQ(stats.extras[0].first, "mx_min_exponent");
  EXPECT_EQ(std::get<std::int64_t>(stats.extras[0].second), -127);
}

TEST(MxQuantizer, BiasesStayFp32) {
  nn::TensorStats stats;
  const std::vector<float> bias = {3.9f, 1e-9f};
  EXPECT_EQ(quantize_row("mxfp4", bias, &stats, "bias"), bias);
  EXPECT_FALSE(stats.shared_exponent.has_value());
}

TEST(MxQuantizer, Describes) {
  ConvertPolicy p;
  p.overflow = Overflow::saturate;
  EXPECT_EQ(MxQuantizer(mx("mxfp6:e2m3"), p, BlockAxis::dim0, false).describe(),
            "mxfp6:e2m3:nearest-even:saturate:along=dim0");
}

TEST(MxWeightGradEngine, RequantizesTheKeptOperandsAlongTheBatch) {
  const nn::ConvGeometry g{.batch = 40,
                           .channels = 3,
                           .height = 6,
                           .width = 5,
                           .filters = 4,
                           .kernel = 3,
                           .stride = 1,
                           .pad = 1};
  const Dims x_dims{40, 3, 6, 5}, dy_dims{40, 4, 6, 5};
  const Tensor x = random_tensor(x_dims, 1, false), dy = random_tensor(dy_dims, 2, false);
  ConvertPolicy p;
  p.overflow = Overflow::saturate;
  const auto activations =
      std::make_shared<MxQuantizer>(mx("mxfp8:e4m3"), p, BlockAxis::dim1, true);
  const auto gradients = std::make_shared<MxQuantizer>(mx("mxfp4"), p, BlockAxis::dim1, true);
  const auto inner = nn::openblas_engine();
  const auto engine = mx_weight_grad_engine(inner, activations, gradients);
  EXPECT_EQ(engine->name(), "mx-weight-grad-dim0(" + inner->name() + ")");
  for (int threads : {1, 2}) {
    nn::ThreadPool pool(threads);
    nn::QTensor xq = qtensor(x), dyq = qtensor(dy);
    activations->apply(xq, {.pool = pool}, nullptr);
    gradients->apply(dyq, {.pool = pool}, nullptr);

    std::vector<float> got(std::size_t(g.filters) * g.patch());
    engine->weight_grad(g, xq, dyq, got, pool);
    const nn::QTensor x_batch =
        qtensor(expected_along(mx("mxfp8:e4m3"), p, x, BlockAxis::dim0, 0).values);
    const nn::QTensor dy_batch =
        qtensor(expected_along(mx("mxfp4"), p, dy, BlockAxis::dim0, 0).values);
    std::vector<float> want(got.size()), reused(got.size());
    inner->weight_grad(g, x_batch, dy_batch, want, pool);
    expect_same_bits(want, got);
    inner->weight_grad(g, xq, dyq, reused, pool);
    EXPECT_NE(reused, got);  // blocking along the batch is not blocking along channels

    std::vector<float> y(std::size_t(g.batch) * g.filters * 30), y_inner(y.size());
    const nn::QTensor w = qtensor(random_tensor({4, 3, 3, 3}, 5, false));
    engine->forward(g, xq, w, y, pool);
    inner->forward(g, xq, w, y_inner, pool);
    expect_same_bits(y_inner, y);

    const nn::QTensor wrong = qtensor(random_tensor({20, 3, 6, 5}, 6));
    EXPECT_THROW(engine->weight_grad(g, wrong, dyq, got, pool), std::logic_error);
  }
}

}  // namespace
}  // namespace lpsim::schemes::scaled
