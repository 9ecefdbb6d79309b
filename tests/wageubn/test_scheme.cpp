// The wageubn-8 scheme's parts: its quantizer objects (statistics, the gradient's weight decay),
// batch norm's conversion points under them, the quantized momentum update, the step schedules,
// the plans it gives each layer and its options.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <vector>

#include "sim/nn/layers.hpp"
#include "sim/nn/models.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scheme.hpp"
#include "sim/schemes/wageubn/optimizer.hpp"
#include "sim/schemes/wageubn/quantize.hpp"
#include "sim/schemes/wageubn/quantizers.hpp"

namespace lpsim::schemes::wageubn {
namespace {

struct Row {
  std::string layer, role;
  nn::TensorStats stats;
};

class Rows final : public nn::Recorder {
 public:
  void record(const std::string& layer, const std::string& role,
              const nn::TensorStats& stats) override {
    rows.push_back({layer, role, stats});
  }
  const Row& find(const std::string& layer, const std::string& role) const {
    for (const Row& r : rows)
      if (r.layer == layer && r.role == role) return r;
    throw std::runtime_error("no row " + layer + " " + role);
  }
  std::vector<Row> rows;
};

nn::StatValue extra(const nn::TensorStats& s, const std::string& name) {
  for (const auto& [key, value] : s.extras)
    if (key == name) return value;
  throw std::runtime_error("no extra " + name);
}
double extra_double(const nn::TensorStats& s, const std::string& name) {
  return std::get<double>(extra(s, name));
}

float q(float x, int bits) { return direct(x, steps(bits)); }

nn::Tensor tensor(std::vector<float> values) {
  nn::Tensor t;
  t.resize({values.size(), 1, 1, 1});
  t.data = std::move(values);
  return t;
}

nn::QTensor qtensor(nn::Tensor values) {
  nn::QTensor t;
  t.values = std::move(values);
  return t;
}

nn::QuantSpec custom(std::shared_ptr<nn::Quantizer> quantizer) {
  nn::QuantSpec s;
  s.custom = std::move(quantizer);
  return s;
}

TEST(WageubnQuantizers, DirectDescribesAndRecordsItsRange) {
  nn::ThreadPool pool(1);
  const auto fw = make_direct("wageubn-fw", 8, true);
  EXPECT_EQ(fw->describe(), "wageubn-fw:clip(Q(x,8),8)");
  EXPECT_EQ(make_direct("wageubn-fa", 8, false)->describe(), "wageubn-fa:Q(x,8)");
  nn::QTensor t = qtensor(tensor({0.3f, -2.0f, 0.001f}));
  nn::TensorStats stats;
  nn::convert(custom(fw), t, {.pool = pool}, &stats);
  EXPECT_EQ(t.values.data, (std::vector<float>{38.0f / 128, -127.0f / 128, 0.0f}));
  EXPECT_EQ(stats.elements, 3);
  EXPECT_EQ(stats.max_abs, 2.0);
  EXPECT_EQ(stats.counts.saturated, 1u);
  EXPECT_EQ(stats.counts.flushed_to_zero, 1u);
  EXPECT_EQ(extra_double(stats, "q_min"), -127.0 / 128);
  EXPECT_EQ(extra_double(stats, "q_max"), 38.0 / 128);
}

TEST(WageubnQuantizers, GradientAddsTheWeightDecayFirst) {
  nn::ThreadPool pool(1);
  const nn::Tensor weight = tensor({0.5f, -0.25f, 0.125f}), bias = tensor({2.0f});
  const auto schedule = std::make_shared<const Schedule>(0.0f, false);
  GradientRule rule{.bits = kFullPrecision, .weight_decay = 1e-4f, .schedule = schedule};
  const nn::QuantSpec fp32 = custom(make_gradient(rule, &weight, &bias));
  EXPECT_EQ(to_string(fp32), "wageubn-fg:fp32:weight_decay=0.0001");
  nn::QTensor g = qtensor(tensor({0.01f, 0.02f, -0.03f}));
  nn::convert(fp32, g, {.pool = pool}, nullptr);
  const std::vector<float> raw = {0.01f, 0.02f, -0.03f};
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(g.values.data[i], raw[i] + 1e-4f * weight.data[i]);
  nn::QTensor gb = qtensor(tensor({0.5f}));
  nn::convert(fp32, gb, {.pool = pool, .part = "bias"}, nullptr);
  EXPECT_EQ(gb.values.data[0], 0.5f + 1e-4f * 2.0f);

  // Quantized: fg of (g + decay w), drawing from (seed, the context's stream and index).
  rule.bits = 8;
  rule.seed = 17;
  const nn::QuantSpec fg = custom(make_gradient(rule, &weight, &bias));
  EXPECT_EQ(to_string(fg), "wageubn-fg:bits=8:g_scale=schedule:sr_tie=0.5:weight_decay=0.0001");
  nn::QTensor got = qtensor(tensor({0.01f, 0.02f, -0.03f}));
  nn::TensorStats stats;
  nn::convert(fg, got, {.pool = pool, .step = 3, .first_index = 1000, .stream = 5}, &stats);
  std::vector<float> want = {0.01f + 1e-4f * 0.5f, 0.02f - 1e-4f * 0.25f, -0.03f + 1e-4f * 0.125f};
  constant_quantize(want, 8, 128, 0.5f, {.seed = 17, .stream = 5, .first_index = 1000}, true, pool);
  EXPECT_EQ(got.values.data, want);
  EXPECT_EQ(std::get<std::int64_t>(extra(stats, "r_exponent")), -5);  // max 0.029: 2^-5.1
  EXPECT_EQ(extra_double(stats, "g_scale"), 128.0);
  EXPECT_EQ(stats.counts.saturated, 0u);  // 128 * 0.0299875 / 2^-5 = 122.8 < 127
  nn::QTensor wrong = qtensor(tensor({1.0f, 2.0f}));
  EXPECT_THROW(nn::convert(fg, wrong, {.pool = pool}, nullptr), std::logic_error);
}

TEST(WageubnQuantizers, BatchNormRulesByPart) {
  nn::ThreadPool pool(1);
  const nn::QuantSpec bn = custom(make_batchnorm({}));
  EXPECT_EQ(to_string(bn),
            "wageubn-bn:gamma=Q(x,8):beta=Q(x,8):mean=Q(x,16):std=Q(x,16)+2^-15:xhat=Q(x,8)");
  const float x = 0.123456f;
  for (const auto& [part, want] : {std::pair{"gamma", q(x, 8)},
                                   {"beta", q(x, 8)},
                                   {"mean", q(x, 16)},
                                   {"std", q(x, 16) + 0x1p-15f},
                                   {"xhat", q(x, 8)}}) {
    nn::QTensor t = qtensor(tensor({x}));
    nn::convert(bn, t, {.pool = pool, .part = part}, nullptr);
    EXPECT_EQ(t.values.data[0], want) << part;
  }
  nn::QTensor t = qtensor(tensor({x}));
  EXPECT_THROW(nn::convert(bn, t, {.pool = pool, .part = "bias"}, nullptr), std::logic_error);
  const nn::QuantSpec wide = custom(make_batchnorm({.mean = 32, .std = 32}));
  nn::convert(wide, t, {.pool = pool, .part = "std"}, nullptr);
  EXPECT_EQ(t.values.data[0], x + 0x1p-15f);  // the code's epsilon even in full precision
}

// A 2 x 2 x 2 x 2 input whose channels have different statistics.
nn::QTensor batchnorm_input() {
  nn::QTensor x;
  x.values.resize({2, 2, 2, 2});
  const float values[] = {0.3f, 1.7f,  -0.4f, 2.2f, 5.0f, 5.5f, 4.75f, 6.1f,
                          0.9f, -1.1f, 0.05f, 1.3f, 5.2f, 4.4f, 6.6f,  5.05f};
  std::copy(std::begin(values), std::end(values), x.values.data.begin());
  return x;
}

struct ChannelStats {
  float mean;
  double std;  // sqrt(var + eps)
};
ChannelStats channel_stats(const nn::Tensor& x, std::size_t c) {
  double sum = 0, squares = 0;
  const std::size_t plane = x.dims.plane(), count = x.dims.n * plane;
  for (std::size_t n = 0; n < x.dims.n; ++n)
    for (std::size_t p = 0; p < plane; ++p) sum += x.sample(n)[c * plane + p];
  const double m = sum / double(count);
  for (std::size_t n = 0; n < x.dims.n; ++n)
    for (std::size_t p = 0; p < plane; ++p) {
      const double dev = x.sample(n)[c * plane + p] - m;
      squares += dev * dev;
    }
  return {float(m), std::sqrt(squares / double(count) + 1e-5f)};
}

TEST(WageubnBatchNorm, QuantizesStatisticsXhatGammaAndBeta) {
  nn::ThreadPool pool(2);
  nn::BatchNorm2d bn("bn", 2);
  bn.gamma.value.data = {0.7f, 1.3f};
  bn.beta.value.data = {0.3f, -0.2f};
  nn::LayerPlan plan;
  plan.spec(nn::Role::BN, nn::Direction::forward).custom = make_batchnorm({});
  bn.set_plan(plan);
  const nn::QTensor x = batchnorm_input();
  nn::Tensor y;
  Rows rows;
  nn::Pass pass{.pool = pool, .training = true, .recorder = &rows};
  bn.forward(x, y, pass);
  // dy: gamma's gradient is the sum of dy times the converted x-hat.
  nn::QTensor dy = batchnorm_input();
  nn::Tensor dx;
  bn.backward(x, dy, &dx, pass);
  const std::size_t plane = 4;
  for (std::size_t c = 0; c < 2; ++c) {
    const ChannelStats s = channel_stats(x.values, c);
    const float mean = q(s.mean, 16), std = q(float(s.std), 16) + 0x1p-15f;
    const float inv_std = float(1.0 / double(std));
    const float g = q(bn.gamma.value.data[c], 8), b = q(bn.beta.value.data[c], 8);
    double dy_xhat = 0;
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t p = 0; p < plane; ++p) {
        const float xhat = q((x.values.sample(n)[c * plane + p] - mean) * inv_std, 8);
        EXPECT_EQ(y.sample(n)[c * plane + p], xhat * g + b) << c << " " << n << " " << p;
        dy_xhat += double(dy.values.sample(n)[c * plane + p]) * double(xhat);
      }
    EXPECT_EQ(bn.gamma.grad.data[c], float(dy_xhat)) << c;
  }
  for (const char* role : {"BN.gamma", "BN.beta", "BN.mean", "BN.std", "BN.xhat"})
    EXPECT_NO_THROW(rows.find("bn", role)) << role;
  EXPECT_EQ(rows.find("bn", "BN.xhat").stats.elements, 16);
  EXPECT_EQ(extra_double(rows.find("bn", "BN.mean").stats, "q_min"),
            q(channel_stats(x.values, 0).mean, 16));
}

TEST(WageubnBatchNorm, Fp32PlanNormalisesWithTheExactInverse) {
  // No conversion: y = (x - mean) (1/std rounded once from double) gamma + beta, in fp32.
  nn::ThreadPool pool(1);
  nn::BatchNorm2d bn("bn", 2);
  bn.gamma.value.data = {0.7f, 1.3f};
  bn.beta.value.data = {0.3f, -0.2f};
  const nn::QTensor x = batchnorm_input();
  nn::Tensor y;
  nn::Pass pass{.pool = pool};
  bn.forward(x, y, pass);
  for (std::size_t c = 0; c < 2; ++c) {
    const ChannelStats s = channel_stats(x.values, c);
    const float inv_std = float(1.0 / s.std);
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t p = 0; p < 4; ++p)
        EXPECT_EQ(y.sample(n)[c * 4 + p],
                  (x.values.sample(n)[c * 4 + p] - s.mean) * inv_std * bn.gamma.value.data[c] +
                      bn.beta.value.data[c]);
  }
}

TEST(WageubnUpdate, LearningRateGrid) {
  EXPECT_EQ(quantize_lr(0.05f, 10), 26.0f / 512);  // 25.6
  EXPECT_EQ(quantize_lr(0.006f, 10), 3.0f / 512);  // 3.07
  EXPECT_EQ(quantize_lr(0x1p-10f, 10), 0.0f);      // 0.5: a tie to 0
  EXPECT_EQ(quantize_lr(3 * 0x1p-10f, 10), 2.0f / 512);
  EXPECT_EQ(quantize_lr(1.0f, 10), 511.0f / 512);  // clip
  EXPECT_EQ(quantize_lr(-5.0f, 10), -511.0f / 512);
  EXPECT_EQ(quantize_lr(0.05f, 32), 0.05f);
}

TEST(WageubnUpdate, StepsFollowTheScaledBoundaries) {
  // 100 steps: boundaries 30, 60, 80, 90; a step equal to a boundary is still before it.
  const Schedule s(0.0f, true);
  for (const auto& [step, phase] : {std::pair{0, 0},
                                    {30, 0},
                                    {31, 1},
                                    {60, 1},
                                    {61, 2},
                                    {80, 2},
                                    {81, 3},
                                    {90, 3},
                                    {91, 4},
                                    {99, 4}})
    EXPECT_EQ(Schedule::phase(std::uint64_t(step), 100), phase) << step;
  EXPECT_EQ(Schedule::phase(1407, 4690), 0);  // floor(4690 * 0.3) = 1407
  EXPECT_EQ(Schedule::phase(1408, 4690), 1);
  EXPECT_EQ(s.g_scale(0, 100), 128.0f);
  EXPECT_EQ(s.g_scale(31, 100), 128.0f);
  EXPECT_EQ(s.g_scale(61, 100), 32.0f);
  EXPECT_EQ(s.g_scale(81, 100), 8.0f);
  EXPECT_EQ(s.g_scale(91, 100), 2.0f);
  EXPECT_EQ(s.lr_factor(31, 100), 0.12);
  EXPECT_EQ(s.lr_factor(91, 100), 0.03);
  EXPECT_EQ(Schedule::phase(1000000, 0), 0);  // no run length (evaluation): phase 0
  const Schedule fixed(16.0f, false);
  EXPECT_EQ(fixed.g_scale(95, 100), 16.0f);
  EXPECT_EQ(fixed.lr_factor(95, 100), 1.0);
  EXPECT_EQ(fixed.g_scale_text(), "16");
  EXPECT_EQ(s.g_scale_text(), "schedule");
}

nn::Parameter parameter(std::string name, std::vector<float> value, std::vector<float> grad,
                        bool batchnorm = false) {
  nn::Parameter p;
  p.name = std::move(name);
  p.value = tensor(std::move(value));
  p.grad = tensor(std::move(grad));
  p.batchnorm = batchnorm;
  return p;
}

TEST(WageubnUpdate, MomentumUpdateThenQuantize) {
  nn::ThreadPool pool(1);
  nn::Parameter first = parameter("conv1.weight", {0.1f}, {0.002f});
  nn::Parameter inner =
      parameter("conv2.weight", {0.1f, -0.2000001f, 0.3f}, {0.001f, -0.0001f, 0.00003f});
  nn::Parameter bias = parameter("conv2.bias", {0.05f}, {0.0003f});
  nn::Parameter gamma = parameter("bn.gamma", {1.0f}, {0.01f}, true);
  nn::Parameter last = parameter("fc.bias", {0.2f}, {-0.004f});
  std::vector<nn::Parameter*> params = {&first, &inner, &bias, &gamma, &last};
  const auto schedule = std::make_shared<const Schedule>(0.0f, false);
  const auto optimizer = make_optimizer({.schedule = schedule});
  EXPECT_EQ(optimizer->describe(),
            "wageubn-momentum:momentum=0.25:lr=flr(10):momentum_bits=13:weight_bits=24:"
            "init_bits=16:requantize=after-update");
  const float lr = 26.0f / 512;  // flr(0.05)
  const std::vector<float> w0 = inner.value.data, g0 = inner.grad.data;
  EXPECT_THROW(optimizer->update(params, {.pool = pool}), std::logic_error);
  optimizer->start(params);  // the quantized-storage weights start on the 16-bit grid
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(inner.value.data[i], q(w0[i], 16)) << i;
  EXPECT_EQ(first.value.data[0], 0.1f);
  Rows rows;
  optimizer->update(params, {.pool = pool, .lr = 0.05f, .recorder = &rows});
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(inner.value.data[i], q(q(w0[i], 16) - g0[i] * lr, 24)) << i;
    EXPECT_EQ(inner.velocity.data[i], q(g0[i], 13)) << i;
  }
  EXPECT_EQ(inner.velocity.data[1], 0.0f);  // -0.0001: 0.41 steps of 2^-12
  EXPECT_EQ(gamma.value.data[0], q(1.0f - 0.01f * lr, 24));
  // The first and last GEMM layers keep fp32 storage: no Q16 start, no re-quantization.
  EXPECT_EQ(first.value.data[0], 0.1f - 0.002f * lr);
  EXPECT_EQ(first.velocity.data[0], 0.002f);
  EXPECT_EQ(last.value.data[0], 0.2f - -0.004f * lr);
  // U rows: the momentum re-quantization, lr_q and g_scale.
  const Row& u = rows.find("conv2", "U");
  EXPECT_EQ(u.stats.counts.flushed_to_zero, 2u);  // -0.0001 and 0.00003
  EXPECT_DOUBLE_EQ(extra_double(u.stats, "zeroed_fraction"), 2.0 / 3);
  EXPECT_EQ(extra_double(u.stats, "lr_q"), double(lr));
  EXPECT_EQ(extra_double(u.stats, "g_scale"), 128.0);
  EXPECT_NO_THROW(rows.find("conv2", "U.bias"));
  EXPECT_NO_THROW(rows.find("bn", "U.gamma"));
  EXPECT_EQ(rows.find("conv1", "U").stats.counts.inexact, 0u);  // fp32 momentum, as it is
  EXPECT_EQ(rows.find("conv1", "U").stats.max_abs, double(0.002f));

  // Second step: accum = 0.25 accum + g.
  const std::vector<float> w1 = inner.value.data, v1 = inner.velocity.data;
  optimizer->update(params, {.pool = pool, .lr = 0.05f, .step = 1});
  for (std::size_t i = 0; i < 3; ++i) {
    const float v = 0.25f * v1[i] + g0[i];
    EXPECT_EQ(inner.value.data[i], q(w1[i] - v * lr, 24)) << i;
    EXPECT_EQ(inner.velocity.data[i], q(v, 13)) << i;
  }
}

TEST(WageubnUpdate, OptionsQuantizeTheEndsAndReorder) {
  nn::ThreadPool pool(1);
  nn::Parameter first = parameter("conv1.weight", {0.1f}, {0.002f});
  nn::Parameter last = parameter("fc.weight", {0.2f}, {-0.004f});
  std::vector<nn::Parameter*> params = {&first, &last};
  const auto schedule = std::make_shared<const Schedule>(0.0f, false);
  const float lr = 26.0f / 512;
  {
    nn::Parameter a = first, b = last;
    std::vector<nn::Parameter*> both = {&a, &b};
    const auto optimizer =
        make_optimizer({.quantize_first = true, .quantize_last = true, .schedule = schedule});
    optimizer->start(both);
    optimizer->update(both, {.pool = pool, .lr = 0.05f});
    EXPECT_EQ(a.value.data[0], q(q(0.1f, 16) - 0.002f * lr, 24));
    EXPECT_EQ(b.velocity.data[0], q(-0.004f, 13));
  }
  // requantize first: the stored values are quantized, then updated (and left unquantized).
  const auto optimizer =
      make_optimizer({.quantize_first = true, .requantize_first = true, .schedule = schedule});
  optimizer->start(params);
  optimizer->update(params, {.pool = pool, .lr = 0.05f});
  EXPECT_EQ(first.value.data[0], q(0.1f, 16) - 0.002f * lr);
  EXPECT_EQ(first.velocity.data[0], 0.002f);
  EXPECT_EQ(last.value.data[0], 0.2f - -0.004f * lr);
}

std::map<std::string, std::string> plans(const std::string& model, const SchemeOptions& options) {
  const auto scheme = make_scheme("wageubn-8", options, 1);
  const nn::Model m = nn::build_model(model, {1, 1, 28, 28}, 10, 1);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : apply_scheme(*scheme, m)) out[k] = v;
  return out;
}

TEST(WageubnScheme, PlansEveryLayer) {
  const std::string fa = "wageubn-fa:Q(x,8)", fw = "wageubn-fw:clip(Q(x,8),8)",
                    fe1 = "wageubn-fe1:R*clamp(Q(x/R,8),-1,1)", fe2 = "wageubn-fe2:flag(8+1)",
                    fg = "wageubn-fg:bits=8:g_scale=schedule:sr_tie=0.5:weight_decay=0.0001",
                    fg32 = "wageubn-fg:fp32:weight_decay=0.0001";
  auto p = plans("lenet5", {});
  // The first layer: fp32 image, weights, output gradient; its gradient gets the decay only.
  EXPECT_EQ(p["scheme.conv1.A"], "fp32");
  EXPECT_EQ(p["scheme.conv1.W"], "fp32");
  EXPECT_EQ(p["scheme.conv1.E"], "fp32");
  EXPECT_EQ(p["scheme.conv1.G"], fg32);
  EXPECT_EQ(p["scheme.relu1.E"], fe1);
  EXPECT_EQ(p["scheme.relu1.A"], "fp32");
  EXPECT_EQ(p["scheme.pool1.E"], "fp32");
  EXPECT_EQ(p["scheme.conv2.A"], fa);
  EXPECT_EQ(p["scheme.conv2.W"], fw);
  EXPECT_EQ(p["scheme.conv2.W.backward"], fw);
  EXPECT_EQ(p["scheme.conv2.E"], fe2);
  EXPECT_EQ(p["scheme.conv2.G"], fg);
  EXPECT_EQ(p["scheme.fc2.G"], fg);
  // The last layer: its input quantized (the code's fa before the dense layer), the rest fp32.
  EXPECT_EQ(p["scheme.fc3.A"], fa);
  EXPECT_EQ(p["scheme.fc3.W"], "fp32");
  EXPECT_EQ(p["scheme.fc3.E"], "fp32");
  EXPECT_EQ(p["scheme.fc3.G"], fg32);
  EXPECT_EQ(p["scheme.logits"], "fp32");
  EXPECT_EQ(p["scheme.conv2.engine"], "fp32-onednn");

  p = plans("vgg-small", {});
  EXPECT_EQ(p["scheme.bn1.BN"],
            "wageubn-bn:gamma=Q(x,8):beta=Q(x,8):mean=Q(x,16):std=Q(x,16)+2^-15:xhat=Q(x,8)");
  EXPECT_EQ(p["scheme.bn1.G"], "wageubn-fgBN:Q(x,15)");
  EXPECT_EQ(p["scheme.bn1.E"], "fp32");
  EXPECT_EQ(p["scheme.relu_fc1.E"], fe1);

  p = plans("lenet5", {{"first_layer", "quantized"},
                       {"last_layer", "quantized"},
                       {"bits_e1", "32"},
                       {"bits_w", "32"},
                       {"bits_g", "6"}});
  EXPECT_EQ(p["scheme.conv1.A"], fa);
  EXPECT_EQ(p["scheme.conv1.E"], fe2);
  EXPECT_EQ(p["scheme.conv1.G"],
            "wageubn-fg:bits=6:g_scale=schedule:sr_tie=0.5:weight_decay=0.0001");
  EXPECT_EQ(p["scheme.fc3.E"], fe2);
  EXPECT_EQ(p["scheme.conv2.W"], "fp32");
  EXPECT_EQ(p["scheme.relu1.E"], "fp32");
}

std::string scheme_error(const SchemeOptions& options) {
  try {
    make_scheme("wageubn-8", options, 1);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(WageubnScheme, OptionsAndTheirErrors) {
  const auto scheme = make_scheme("wageubn-8", {{"g_scale", "32"}, {"lr_schedule", "paper"}}, 1);
  std::map<std::string, std::string> o;
  for (const auto& [k, v] : scheme->options()) o[k] = v;
  EXPECT_EQ(o["g_scale"], "32");
  EXPECT_EQ(o["lr_schedule"], "paper");
  EXPECT_EQ(o["momentum"], "0.25");
  EXPECT_EQ(o["bits_momentum"], "13");
  EXPECT_EQ(o["first_layer"], "fp32");
  EXPECT_EQ(o["sr_tie"], "half");
  EXPECT_EQ(o["requantize"], "after-update");
  EXPECT_EQ(o.size(), 24u);

  const std::pair<SchemeOptions, std::string> errors[] = {
      {{{"bits_w", "1"}}, "bits_w: \"1\" is not a width 2..32 (32: full precision)"},
      {{{"bits_bn_std", "16.5"}},
       "bits_bn_std: \"16.5\" is not a width 2..32 (32: full precision)"},
      {{{"g_scale", "1"}}, "g_scale: \"1\" is not schedule or a number in (1, 2^24]"},
      {{{"momentum", "1.5"}}, "momentum: \"1.5\" is not a number in [0, 1]"},
      {{{"lr_schedule", "cosine"}}, "lr_schedule: \"cosine\" is not run or paper"},
      {{{"sr_tie", "up"}}, "sr_tie: \"up\" is not half or none"},
      {{{"requantize", "never"}}, "requantize: \"never\" is not after-update or first"}};
  for (const auto& [options, message] : errors)
    EXPECT_EQ(scheme_error(options), "wageubn-8 option " + message);
  EXPECT_NE(scheme_error({{"bitsw", "8"}}).find("scheme wageubn-8 has no option \"bitsw\""),
            std::string::npos);
}

}  // namespace
}  // namespace lpsim::schemes::wageubn
