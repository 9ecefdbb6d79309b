// wageubn-8 (Yang et al. 2019, "Training high-performance and large-scale deep neural networks
// with full 8-bit integers", SCHEMES.md §3; the code: yang-yk/wageubn): fake quantization in
// fp32 of every tensor -- W, A, G, E, U and batch norm -- with the rules of wageubn/quantize.hpp,
// GEMMs in fp32 on the quantized values, and the quantized momentum update of
// wageubn/optimizer.hpp.
//
// Where the rules apply. The paper's pre-activation ResNet block is BN -> ReLU -> fa -> fe1 ->
// conv(fw(W)) -> fe2; lpsim's models are post-activation (conv -> [BN] -> ReLU -> [pool]), so:
//   A (fa, Q8, unclipped)      the input of every conv and linear layer but the first (the image)
//   W (fw, clip(Q8))           the weights (and biases) of every conv and linear layer, forward
//                              and backward-data
//   E2 (fe2, flag 8+1)         the output gradient of every conv and linear layer
//   E1 (fe1, shift 8)          the output gradient of every ReLU: the gradient of the activation
//                              fa quantized (pooling, flatten and dropout between a ReLU and the
//                              next GEMM move or scale it; max pooling's windows do not overlap)
//   G (fg, 8-bit SR integers)  weight and bias gradients of conv and linear layers, after adding
//                              weight_decay * w (the code's L2 term of the loss)
//   BN                         gamma, beta Q8, batch mean Q16, std Q16 + 2^-15, x-hat Q8
//                              (sim/nn/batchnorm.cpp's parts); their gradients Q15 (fgBN)
//   U                          momentum 0.25, lr_q = flr(lr), momentum Q13, weights Q24
// The first GEMM layer (the code's tf.layers.conv2d) and the last (tf.layers.dense) are full
// precision: W, E2, G (decay only) and storage in fp32; the last layer's input is quantized (the
// code's fa after the final BN-ReLU). first_layer / last_layer = quantized change that (the first
// layer then also quantizes the image).
// Differences from the code, by necessity: lpsim's batch norm computes std = sqrt(var + 1e-5)
// before the std rule adds 2^-15, and keeps PyTorch's running statistics (momentum 0.1, unbiased
// variance; the code: decay 0.997, biased); the initial weights are lpsim's (PyTorch uniform),
// then Q16; biases (the code's convolutions have none) are quantized as weights.
// The run's --momentum and --weight-decay are not used (the options below are). fg normalises
// each gradient to at most 127 steps of 2^-14, so at a given lr the updates are far smaller than
// fp32 SGD's: lenet5 on Fashion-MNIST wants --lr 0.5 to 0.9 (docs/results.md).
//
// Options (each width 2..32 bits; 32 = full precision, as in Quantize.py):
//   bits_w 8, bits_a 8, bits_g 8, bits_e1 8, bits_e2 8, bits_bn_gamma 8, bits_bn_beta 8,
//   bits_bn_mean 16, bits_bn_std 16, bits_bn_xhat 8, bits_bn_grad 15, bits_lr 10,
//   bits_weights 24 (storage), bits_momentum 13, bits_init 16
//   momentum      0.25
//   weight_decay  1e-4 (added to the non-batch-norm gradients before fg)
//   g_scale       schedule (128, 128, 32, 8, 2 at 30/60/80/90 % of the run's steps, the code's
//                 epochs 30/60/80/90 of 100) or a constant > 1
//   lr_schedule   run (the run's --lr and --schedule, then flr) or paper (the run's lr times
//                 1, .12, .06, .03, .03 at 30/60/80/90 % of the run; use --schedule constant)
//   first_layer, last_layer  fp32 (default) or quantized
//   sr_tie        half (the code: frac == U adds 0.5) or none
//   requantize    after-update (default) or first (SCHEMES.md ambiguity 9)
//   engine        onednn (default) or openblas: the fp32 GEMM engine
#include <charconv>
#include <sstream>
#include <stdexcept>

#include "sim/nn/layers.hpp"
#include "sim/schemes/builtin.hpp"
#include "sim/schemes/wageubn/optimizer.hpp"
#include "sim/schemes/wageubn/quantizers.hpp"

namespace lpsim::schemes {
namespace {

using nn::Direction;
using nn::LayerKind;
using nn::Role;

std::string number_text(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
}

struct Widths {
  int w = 8, a = 8, g = 8, e1 = 8, e2 = 8, bn_grad = 15;
  wageubn::BatchNormBits bn;
};

struct Settings {
  Widths bits;
  wageubn::MomentumRule update;
  wageubn::GradientRule gradient;
  std::string lr_schedule, sr_tie;
  std::shared_ptr<const nn::GemmEngine> engine;
};

class Wageubn8 final : public Scheme {
 public:
  explicit Wageubn8(Settings s) : s_(std::move(s)) {}

  std::string name() const override { return "wageubn-8"; }

  ConfigEntries options() const override {
    const Widths& b = s_.bits;
    const wageubn::MomentumRule& u = s_.update;
    return {{"bits_w", std::to_string(b.w)},
            {"bits_a", std::to_string(b.a)},
            {"bits_g", std::to_string(b.g)},
            {"bits_e1", std::to_string(b.e1)},
            {"bits_e2", std::to_string(b.e2)},
            {"bits_bn_gamma", std::to_string(b.bn.gamma)},
            {"bits_bn_beta", std::to_string(b.bn.beta)},
            {"bits_bn_mean", std::to_string(b.bn.mean)},
            {"bits_bn_std", std::to_string(b.bn.std)},
            {"bits_bn_xhat", std::to_string(b.bn.xhat)},
            {"bits_bn_grad", std::to_string(b.bn_grad)},
            {"bits_lr", std::to_string(u.lr_bits)},
            {"bits_weights", std::to_string(u.weight_bits)},
            {"bits_momentum", std::to_string(u.momentum_bits)},
            {"bits_init", std::to_string(u.init_bits)},
            {"momentum", number_text(u.momentum)},
            {"weight_decay", number_text(s_.gradient.weight_decay)},
            {"g_scale", u.schedule->g_scale_text()},
            {"lr_schedule", s_.lr_schedule},
            {"first_layer", u.quantize_first ? "quantized" : "fp32"},
            {"last_layer", u.quantize_last ? "quantized" : "fp32"},
            {"sr_tie", s_.sr_tie},
            {"requantize", u.requantize_first ? "first" : "after-update"},
            {"engine", s_.engine->name()}};
  }

  nn::LayerPlan plan(const nn::Layer& layer, const LayerPosition& position) const override {
    nn::LayerPlan plan;
    plan.engine = s_.engine;
    const Widths& b = s_.bits;
    switch (layer.kind()) {
      case LayerKind::conv:
      case LayerKind::linear: {
        const bool image_input = position.first_gemm() && !s_.update.quantize_first;
        const bool fp32 = image_input || (position.last_gemm() && !s_.update.quantize_last);
        if (!image_input) set(plan, Role::A, Direction::forward, direct("wageubn-fa", b.a, false));
        if (!fp32) {
          const auto weights = direct("wageubn-fw", b.w, true);
          set(plan, Role::W, Direction::forward, weights);
          set(plan, Role::W, Direction::backward, weights);
          if (b.e2 < wageubn::kFullPrecision)
            set(plan, Role::E, Direction::backward, wageubn::make_flag(b.e2));
        }
        const auto& gemm = dynamic_cast<const nn::Conv2d&>(layer);
        wageubn::GradientRule rule = s_.gradient;
        if (fp32) rule.bits = wageubn::kFullPrecision;
        set(plan, Role::G, Direction::backward,
            wageubn::make_gradient(rule, &gemm.weight.value,
                                   gemm.bias.value.size() ? &gemm.bias.value : nullptr));
        break;
      }
      case LayerKind::batchnorm:
        set(plan, Role::BN, Direction::forward, wageubn::make_batchnorm(b.bn));
        set(plan, Role::G, Direction::backward, direct("wageubn-fgBN", b.bn_grad, false));
        break;
      case LayerKind::relu:
        if (b.e1 < wageubn::kFullPrecision)
          set(plan, Role::E, Direction::backward, wageubn::make_shift(b.e1));
        break;
      default:
        break;
    }
    return plan;
  }

  std::unique_ptr<nn::Optimizer> optimizer(const nn::SgdOptions&) const override {
    return wageubn::make_optimizer(s_.update);
  }

 private:
  // Q(x, bits) (clip(Q) when clipped), or none for full precision.
  static std::shared_ptr<nn::Quantizer> direct(std::string rule, int bits, bool clipped) {
    return bits < wageubn::kFullPrecision ? wageubn::make_direct(std::move(rule), bits, clipped)
                                          : nullptr;
  }
  static void set(nn::LayerPlan& plan, Role role, Direction direction,
                  std::shared_ptr<nn::Quantizer> quantizer) {
    plan.spec(role, direction).custom = std::move(quantizer);
  }

  Settings s_;
};

[[noreturn]] void bad_option(const std::string& key, const std::string& text,
                             const std::string& expected) {
  throw std::invalid_argument("wageubn-8 option " + key + ": \"" + text + "\" is not " + expected);
}

template <class T>
T parse(const std::string& key, const std::string& text, T low, T high,
        const std::string& expected) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value >= low) ||
      !(value <= high))
    bad_option(key, text, expected);
  return value;
}

int read_bits(OptionReader& options, const std::string& key, int fallback) {
  return parse(key, options.text(key, std::to_string(fallback)), 2, 32,
               "a width 2..32 (32: full precision)");
}

double read_fraction(OptionReader& options, const std::string& key, const std::string& fallback) {
  return parse(key, options.text(key, fallback), 0.0, 1.0, "a number in [0, 1]");
}

// One of two words; true for the second.
bool read_choice(OptionReader& options, const std::string& key, const std::string& first,
                 const std::string& second) {
  const std::string text = options.text(key, first);
  if (text != first && text != second) bad_option(key, text, first + " or " + second);
  return text == second;
}

}  // namespace

std::unique_ptr<Scheme> make_wageubn_8(OptionReader& options, std::uint64_t seed) {
  Settings s;
  Widths& b = s.bits;
  b.w = read_bits(options, "bits_w", 8);
  b.a = read_bits(options, "bits_a", 8);
  b.g = read_bits(options, "bits_g", 8);
  b.e1 = read_bits(options, "bits_e1", 8);
  b.e2 = read_bits(options, "bits_e2", 8);
  b.bn.gamma = read_bits(options, "bits_bn_gamma", 8);
  b.bn.beta = read_bits(options, "bits_bn_beta", 8);
  b.bn.mean = read_bits(options, "bits_bn_mean", 16);
  b.bn.std = read_bits(options, "bits_bn_std", 16);
  b.bn.xhat = read_bits(options, "bits_bn_xhat", 8);
  b.bn_grad = read_bits(options, "bits_bn_grad", 15);
  wageubn::MomentumRule& u = s.update;
  u.lr_bits = read_bits(options, "bits_lr", 10);
  u.weight_bits = read_bits(options, "bits_weights", 24);
  u.momentum_bits = read_bits(options, "bits_momentum", 13);
  u.init_bits = read_bits(options, "bits_init", 16);
  u.momentum = float(read_fraction(options, "momentum", "0.25"));
  s.gradient.weight_decay = float(read_fraction(options, "weight_decay", "1e-4"));
  const std::string g_scale_text = options.text("g_scale", "schedule");
  const float g_scale = g_scale_text == "schedule" ? 0.0f
                                                   : parse("g_scale", g_scale_text, 1.0f, 0x1p24f,
                                                           "schedule or a number in (1, 2^24]");
  if (g_scale == 1.0f) bad_option("g_scale", g_scale_text, "schedule or a number in (1, 2^24]");
  s.lr_schedule = options.text("lr_schedule", "run");
  if (s.lr_schedule != "run" && s.lr_schedule != "paper")
    bad_option("lr_schedule", s.lr_schedule, "run or paper");
  u.schedule = std::make_shared<const wageubn::Schedule>(g_scale, s.lr_schedule == "paper");
  u.quantize_first = read_choice(options, "first_layer", "fp32", "quantized");
  u.quantize_last = read_choice(options, "last_layer", "fp32", "quantized");
  const bool no_tie = read_choice(options, "sr_tie", "half", "none");
  s.sr_tie = no_tie ? "none" : "half";
  u.requantize_first = read_choice(options, "requantize", "after-update", "first");
  s.gradient.bits = b.g;
  s.gradient.tie = no_tie ? 0.0f : 0.5f;
  s.gradient.seed = seed;
  s.gradient.schedule = u.schedule;
  s.engine = fp32_engine_option(options);
  return std::make_unique<Wageubn8>(std::move(s));
}

}  // namespace lpsim::schemes
