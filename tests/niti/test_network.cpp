// NITI's integer network: a linear layer's forward, backward and update computed by hand (act_calc
// with a shift, grad_calc with PstoShift or a cast, W clamped at +-127), act_calc's edge case
// (max |acc| = 128 wraps to -128) and the 2020 variant's shift 1 -> 2, the pointwise layers (ReLU,
// first-maximum pooling, per-feature dropout with exponent + 1), weight_quant and the models NITI's
// network cannot hold.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/nn/models.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/niti/float_boundary.hpp"
#include "sim/schemes/niti/network.hpp"

namespace lpsim::schemes::niti {
namespace {

NetworkOptions head_options() {
  NetworkOptions o;
  o.conv_acc = {.overflow = AccOverflow::saturate, .group = 16, .fp32_epilogue = true};
  return o;
}

// A model of one fully connected layer 2 -> 2 with weights ((1, -1), (0.5, 0.25)).
nn::Model linear_model() {
  nn::Model m{"tiny", {1, 2, 1, 1}, 2, std::make_unique<nn::Sequential>("net")};
  auto fc = nn::Conv2d::linear("fc", 2, 2);
  fc->weight.value.data = {1.0f, -1.0f, 0.5f, 0.25f};
  m.net->add(std::move(fc));
  return m;
}

IntTensor tensor(nn::Dims dims, std::vector<std::int8_t> codes, int exponent) {
  return {.dims = dims, .codes = std::move(codes), .exponent = exponent};
}

TEST(NitiNetwork, WeightQuantScalesToTheMaximumButRoundsTheExponentUp) {
  const std::vector<float> w = {1.0f, -1.0f, 0.5f, 0.25f, 0.3f};
  std::vector<std::int8_t> q(w.size());
  EXPECT_EQ(niti_float::weight_quant(w, q), -7);                    // ceil(log2 1) - 7
  EXPECT_EQ(q, (std::vector<std::int8_t>{127, -127, 64, 32, 38}));  // 63.5 -> 64 (even), 38.1
  const std::vector<float> small = {0.3f, -0.1f};  // max 0.3: exponent ceil(-1.74) - 7 = -8
  std::vector<std::int8_t> qs(2);
  EXPECT_EQ(niti_float::weight_quant(small, qs), -8);
  EXPECT_EQ(qs, (std::vector<std::int8_t>{127, -42}));  // 127 * 2^-8 = 0.496 != 0.3
}

// Forward: acc = (127 * 100 - 127 * 50, 64 * 100 + 32 * 50) = (6350, 8000); b = 13, shift 6:
// RoundShift -> (99, 125), exponent -7 - 7 + 6 = -8.
// Backward (dy = (1, -1), exponent 0): g32 = ((100, 50), (-100, -50)), b = 7; mu = 5: shift 2,
// PstoShift -> ((25, 13), (-25, -13)) (50 = 12 * 4 + 0b10: P = 1 > R = 0); W - g = (102, -140 ->
// -127, 89, 45).
TEST(NitiNetwork, LinearLayerByHand) {
  nn::ThreadPool pool(1);
  Network net(linear_model(), head_options());
  EXPECT_EQ(*net.weights()[0], (std::vector<std::int8_t>{127, -127, 64, 32}));
  const PassState state{.pool = pool, .mu = 5};
  const IntTensor& y = net.forward(tensor({1, 2, 1, 1}, {100, 50}, -7), state);
  EXPECT_EQ(y.codes, (std::vector<std::int8_t>{99, 125}));
  EXPECT_EQ(y.exponent, -8);
  const GemmReport forward = net.reports()[0];
  EXPECT_EQ(forward.activation.bits, 13);
  EXPECT_EQ(forward.activation.shift, 6);
  EXPECT_EQ(forward.activation.max_magnitude, 8000u);
  EXPECT_EQ(forward.activation.inexact, 1);  // 6350 = 99 * 64 + 14
  EXPECT_EQ(forward.weight_exponent, -7);

  net.backward(tensor({1, 2, 1, 1}, {1, -1}, 0), state);
  EXPECT_EQ(*net.weights()[0], (std::vector<std::int8_t>{102, -127, 89, 45}));
  const GemmReport r = net.reports()[0];
  EXPECT_FALSE(r.error);  // the first GEMM layer back-propagates nothing
  ASSERT_TRUE(r.gradient);
  EXPECT_EQ(r.gradient->bits, 7);
  EXPECT_EQ(r.gradient->shift, 2);
  EXPECT_EQ(r.gradient->exponent, 0 - 7 + 2);
  EXPECT_EQ(r.mu, 5);
  EXPECT_EQ(r.update.changed, 4);
  EXPECT_EQ(r.update.clipped, 1);
  EXPECT_EQ(r.update.pinned, 1);
  EXPECT_EQ(r.update.max_magnitude, 127);
}

// mu = 7: shift b - mu = 0 < 1: g = g32 cast to int8; W - g = (27, -177 -> -127, 164 -> 127, 82).
TEST(NitiNetwork, GradientBelowMuBitsIsCast) {
  nn::ThreadPool pool(1);
  Network net(linear_model(), head_options());
  const PassState state{.pool = pool, .mu = 7};
  net.forward(tensor({1, 2, 1, 1}, {100, 50}, -7), state);
  net.backward(tensor({1, 2, 1, 1}, {1, -1}, 0), state);
  EXPECT_EQ(*net.weights()[0], (std::vector<std::int8_t>{27, -127, 127, 82}));
  EXPECT_EQ(net.reports()[0].gradient->shift, 0);
  EXPECT_EQ(net.reports()[0].update.pinned, 2);
}

TEST(NitiNetwork, ActCalcEdgeCasesAndThe2020ShiftOfTwo) {
  nn::ThreadPool pool(1);
  std::vector<std::int8_t> out(3);
  // max |acc| = 128: b = 7, no shift, and 128 wraps to -128 (SCHEMES.md §2).
  const std::vector<std::int32_t> edge = {128, -3, 5};
  Requantization r = requantize(edge, out, 7, false, {}, pool);
  EXPECT_EQ(r.shift, 0);
  EXPECT_EQ(out, (std::vector<std::int8_t>{-128, -3, 5}));
  EXPECT_EQ(r.wrapped, 1);
  // max 129: b = 8, shift 1; HEAD RoundShift: 129 / 2 = 64.5 -> 65, -3 / 2 -> -2.
  const std::vector<std::int32_t> one = {129, -3, 5};
  r = requantize(one, out, 7, false, {}, pool);
  EXPECT_EQ(r.shift, 1);
  EXPECT_EQ(out, (std::vector<std::int8_t>{65, -2, 3}));
  // 2020: PstoShift, and the shift of 1 becomes 2: 129 = 32 * 4 + 0b01 (P = 0, R = 1) -> 32;
  // -3 = -(0 * 4 + 0b11) (P = 1 = R) -> 0; 5 = 4 + 0b01 -> 1.
  r = requantize(one, out, 7, true, {.rounding = ShiftRounding::psto_shift}, pool);
  EXPECT_EQ(r.shift, 2);
  EXPECT_EQ(out, (std::vector<std::int8_t>{32, 0, 1}));
  EXPECT_EQ(r.flushed_to_zero, 1);
}

// A model of the pointwise layers behind a 1 x 1 convolution.
nn::Model pointwise_model() {
  nn::Model m{"pointwise", {1, 1, 4, 4}, 2, std::make_unique<nn::Sequential>("net")};
  m.net->add(std::make_unique<nn::Conv2d>("conv", 1, 1, 1, 1, 0, false));
  m.net->add(std::make_unique<nn::ReLU>("relu"));
  m.net->add(std::make_unique<nn::MaxPool2d>("pool", 2, 2));
  m.net->add(std::make_unique<nn::Flatten>("flatten"));
  m.net->add(std::make_unique<nn::Dropout>("dropout", 0.5f));
  return m;
}

TEST(NitiNetwork, ReluAndMaxPoolTakeTheFirstMaximum) {
  nn::ThreadPool pool(1);
  const nn::Model m = pointwise_model();
  const PassState state{.pool = pool};
  const auto relu = make_layer(*m.leaves()[1], m, head_options());
  const auto max_pool = make_layer(*m.leaves()[2], m, head_options());
  const IntTensor x = tensor({1, 1, 4, 4},
                             {-1, 5, 3, 5,   //
                              2, -7, 5, 1,   //
                              -3, -2, 0, 9,  //
                              -4, -1, 9, 9},
                             -3);
  IntTensor y, pooled;
  relu->forward(x, y, state);
  EXPECT_EQ(y.codes, (std::vector<std::int8_t>{0, 5, 3, 5, 2, 0, 5, 1, 0, 0, 0, 9, 0, 0, 9, 9}));
  EXPECT_EQ(y.exponent, -3);
  max_pool->forward(y, pooled, state);
  EXPECT_EQ(pooled.dims, (nn::Dims{1, 1, 2, 2}));
  EXPECT_EQ(pooled.codes, (std::vector<std::int8_t>{5, 5, 0, 9}));
  IntTensor unpooled, dx;
  max_pool->backward(y, tensor({1, 1, 2, 2}, {10, 20, 30, 40}, 2), &unpooled, state);
  // Windows' first maxima: (0, 1), (0, 3) [before the 5 at (1, 2)], (2, 0) [all 0], (2, 3).
  EXPECT_EQ(unpooled.codes,
            (std::vector<std::int8_t>{0, 10, 0, 20, 0, 0, 0, 0, 30, 0, 0, 40, 0, 0, 0, 0}));
  EXPECT_EQ(unpooled.exponent, 2);
  relu->backward(x, unpooled, &dx, state);
  EXPECT_EQ(dx.codes,  // the error survives where the ReLU's input was positive
            (std::vector<std::int8_t>{0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0}));
}

TEST(NitiNetwork, DropoutMasksFeaturesAcrossTheBatch) {
  nn::ThreadPool pool(1);
  const nn::Model m = pointwise_model();
  const auto dropout = make_layer(*m.leaves()[4], m, head_options());
  std::vector<std::int8_t> codes(2 * 64);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = std::int8_t(1 + i % 64);
  const IntTensor x = tensor({2, 64, 1, 1}, codes, -4);
  IntTensor y, again, other, dx;
  dropout->forward(x, y, {.pool = pool, .step = 3, .seed = 9});
  EXPECT_EQ(y.exponent, -3);  // kept values doubled: inverted dropout of probability 1/2
  int kept = 0;
  for (std::size_t f = 0; f < 64; ++f) {
    ASSERT_EQ(y.codes[f], y.codes[64 + f]) << f;  // the same mask for both samples
    ASSERT_TRUE(y.codes[f] == 0 || y.codes[f] == codes[f]);
    kept += y.codes[f] != 0;
  }
  EXPECT_GT(kept, 16);
  EXPECT_LT(kept, 48);
  dropout->backward(x, x, &dx, {.pool = pool});
  EXPECT_EQ(dx.codes, y.codes);
  EXPECT_EQ(dx.exponent, -4);  // NITI leaves the error's exponent alone
  dropout->forward(x, again, {.pool = pool, .step = 3, .seed = 9});
  dropout->forward(x, other, {.pool = pool, .step = 4, .seed = 9});
  EXPECT_EQ(again.codes, y.codes);
  EXPECT_NE(other.codes, y.codes);
  IntTensor evaluated;
  dropout->forward(x, evaluated, {.pool = pool, .training = false});
  EXPECT_EQ(evaluated.codes, codes);
  EXPECT_EQ(evaluated.exponent, -4);
}

TEST(NitiNetwork, ModelsWithoutANitiCounterpartAreRejected) {
  const NetworkOptions o = head_options();
  const auto message = [&](const char* name) {
    try {
      Network net(nn::build_model(name, {1, 1, 28, 28}, 10, 1), o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("lenet5"), "accepted");
  EXPECT_EQ(message("mlp"), "accepted");
  EXPECT_EQ(message("vgg-small"),
            "niti-int8: model vgg-small has batch norm (bn1), which NITI's integer network does "
            "not have (lenet5 and mlp have none)");
  EXPECT_NE(message("resnet20").find("has a residual block (s1b1)"), std::string::npos);
  nn::Model overlapping{"overlap", {1, 1, 8, 8}, 2, std::make_unique<nn::Sequential>("net")};
  overlapping.net->add(std::make_unique<nn::Conv2d>("conv", 1, 1, 1, 1, 0, false));
  overlapping.net->add(std::make_unique<nn::MaxPool2d>("pool", 3, 2));
  EXPECT_THROW(Network(overlapping, o), std::invalid_argument);
}

TEST(NitiNetwork, ConfigNamesEachProductAndItsFrozenExponent) {
  const Network net(nn::build_model("lenet5", {1, 1, 28, 28}, 10, 1), head_options());
  const auto config = net.config();
  const auto value = [&](const std::string& key) {
    for (const auto& [k, v] : config)
      if (k == key) return v;
    return std::string("missing");
  };
  EXPECT_EQ(value("scheme.conv1.engine"),
            "int8 conv 5x5 stride 1 pad 2, acc:int32:sat:group=16:fp32-epilogue");
  EXPECT_EQ(value("scheme.conv2.engine"),
            "int8 conv 5x5 stride 1 pad 0, acc:int32:sat:group=16:fp32-epilogue");
  EXPECT_EQ(value("scheme.fc1.engine"), "int8 linear, acc:int32:wrap");
  EXPECT_EQ(value("scheme.conv1.E"), "none (NITI's first layer)");
  EXPECT_NE(value("scheme.fc3.weight_exponent"), "missing");
}

}  // namespace
}  // namespace lpsim::schemes::niti
