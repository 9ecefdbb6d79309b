// fp8-delayed: Transformer Engine's FP8 recipe with delayed scaling (recipe.DelayedScaling). The
// GEMM operands of every convolution and fully connected layer -- input activations A and weights
// W forward, the output gradient E backward -- are cast to FP8 with a per-tensor scale from an
// amax history (sim/schemes/scaled/delayed_scaling.hpp) and saturation, and the fp32 engine
// multiplies the dequantized values (fp32 products and sums; cuBLASLt instead applies the two
// scale_invs to the accumulated sum, an fp32-level rounding difference). As in TE, the backward
// GEMMs reuse the forward casts of A and W (the weight's FP8 transpose), weight gradients G stay
// fp32, biases stay fp32, and there is no loss scaling.
//
// Options: format      hybrid (E4M3 forward, E5M2 backward; default) | e4m3 (E4M3 throughout)
//          history     amax_history_len, 1..65536 (default 1024)
//          algo        amax_compute_algo: max (default) | most_recent
//          margin      0..30 (default 0): scale = (fp8_max * 2^-margin) / amax
//          zero_amax   skip (PyTorch's bulk update: a step whose amax is 0 leaves history and scale
//                      alone; default) | record (the per-tensor kernel: the 0 enters the history)
//          roles       which operands are FP8: letters of AWEG (default AWE; G casts weight
//                      gradients with the backward format)
//          first_layer, last_layer  fp8 (default) | fp32: keep the network's first / last GEMM
//                      layer in fp32, as TE users leave embeddings and output heads in bf16
//          rounding    of the FP8 casts (default nearest-even, TE's only mode)
//          engine      onednn (default) | openblas: the fp32 GEMM engine
#include <stdexcept>

#include "formats/float_format.hpp"
#include "sim/schemes/builtin.hpp"
#include "sim/schemes/scaled/delayed_scaling.hpp"
#include "sim/schemes/scaled/options.hpp"

namespace lpsim::schemes {
namespace {

using nn::Direction;
using nn::Role;

constexpr char kName[] = "fp8-delayed";

struct Fp8Roles {
  bool a = false, w = false, e = false, g = false;
  std::string text() const {
    return std::string(a ? "A" : "") + (w ? "W" : "") + (e ? "E" : "") + (g ? "G" : "");
  }
};

Fp8Roles read_roles(OptionReader& options) {
  const std::string text = options.text("roles", "AWE");
  const std::invalid_argument bad(std::string(kName) + " option roles: \"" + text +
                                  "\" (expected distinct letters of AWEG)");
  if (text.empty()) throw bad;
  Fp8Roles r;
  for (char c : text) {
    bool* role = c == 'A' ? &r.a : c == 'W' ? &r.w : c == 'E' ? &r.e : c == 'G' ? &r.g : nullptr;
    if (!role || *role) throw bad;
    *role = true;
  }
  return r;
}

class Fp8Delayed final : public Scheme {
 public:
  Fp8Delayed(bool hybrid, scaled::DelayedScalingRecipe recipe, Fp8Roles roles,
             scaled::LayerSelection layers, ConvertPolicy policy,
             std::shared_ptr<const nn::GemmEngine> engine)
      : hybrid_(hybrid),
        recipe_(recipe),
        roles_(roles),
        layers_(std::move(layers)),
        policy_(policy),
        engine_(std::move(engine)) {}

  std::string name() const override { return kName; }

  ConfigEntries options() const override {
    ConfigEntries e = {{"format", hybrid_ ? "hybrid" : "e4m3"},
                       {"history", std::to_string(recipe_.history)},
                       {"algo", std::string(scaled::to_string(recipe_.algo))},
                       {"margin", std::to_string(recipe_.margin)},
                       {"zero_amax", std::string(scaled::to_string(recipe_.zero_amax))},
                       {"roles", roles_.text()},
                       {"rounding", std::string(to_string(policy_.rounding.mode))},
                       {"engine", engine_->name()}};
    layers_.add_options(e);
    return e;
  }

  nn::LayerPlan plan(const nn::Layer&, const LayerPosition& position) const override {
    nn::LayerPlan plan;
    plan.engine = engine_;
    if (!layers_.quantizes(position)) return plan;
    const FloatFormat e4m3 = *find_float_preset("e4m3");
    const FloatFormat backward = hybrid_ ? *find_float_preset("e5m2") : e4m3;
    auto quantizer = [&](const FloatFormat& f) {
      nn::QuantSpec spec;
      spec.custom = std::make_shared<scaled::Fp8DelayedQuantizer>(f, recipe_, policy_);
      return spec;
    };
    if (roles_.a) plan.spec(Role::A, Direction::forward) = quantizer(e4m3);
    if (roles_.w) {
      // One cast serves both GEMMs: the same spec makes Conv2d reuse the forward copy.
      plan.spec(Role::W, Direction::forward) = quantizer(e4m3);
      plan.spec(Role::W, Direction::backward) = plan.spec(Role::W, Direction::forward);
    }
    if (roles_.e) plan.spec(Role::E, Direction::backward) = quantizer(backward);
    if (roles_.g) plan.spec(Role::G, Direction::backward) = quantizer(backward);
    return plan;
  }

 private:
  bool hybrid_;
  scaled::DelayedScalingRecipe recipe_;
  Fp8Roles roles_;
  scaled::LayerSelection layers_;
  ConvertPolicy policy_;
  std::shared_ptr<const nn::GemmEngine> engine_;
};

}  // namespace

std::unique_ptr<Scheme> make_fp8_delayed(OptionReader& options, std::uint64_t seed) {
  const bool hybrid = scaled::read_choice(options, kName, "format", {"hybrid", "e4m3"}) == "hybrid";
  scaled::DelayedScalingRecipe recipe;
  recipe.history = scaled::read_int(options, kName, "history", 1024, 1, 65536);
  recipe.algo = scaled::read_choice(options, kName, "algo", {"max", "most_recent"}) == "max"
                    ? scaled::AmaxAlgo::max
                    : scaled::AmaxAlgo::most_recent;
  recipe.margin = scaled::read_int(options, kName, "margin", 0, 0, 30);
  recipe.zero_amax = scaled::read_choice(options, kName, "zero_amax", {"skip", "record"}) == "skip"
                         ? scaled::ZeroAmax::skip
                         : scaled::ZeroAmax::record;
  const Fp8Roles roles = read_roles(options);
  scaled::LayerSelection layers = scaled::read_layer_selection(options, kName, "fp8");
  ConvertPolicy policy;
  policy.rounding.mode = scaled::read_rounding(options, kName);
  policy.rounding.seed = seed;
  policy.overflow = Overflow::saturate;
  return std::make_unique<Fp8Delayed>(hybrid, recipe, roles, std::move(layers), policy,
                                      fp32_engine_option(options));
}

}  // namespace lpsim::schemes
