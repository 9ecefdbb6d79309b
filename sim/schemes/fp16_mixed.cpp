// fp16-mixed (Micikevicius et al. 2017, SCHEMES.md §4): activations, weights and gradients stored
// in IEEE binary16 (nearest-even, subnormals kept, overflow to inf), fp32 accumulation (the fp32
// GEMM on fp16 values), fp32 master weights and update, batch norm and softmax in fp32, and loss
// scaling with overflowed steps skipped.
//
// Options: loss_scale   apex (default) | apex-fp16-utils | torch | tensorflow | a number (static)
//          init_scale   overrides the dynamic variant's initial scale
//          growth_interval  overrides its growth interval
//          rounding     of every fp16 conversion (default nearest-even)
//          engine       onednn (default) or openblas: the fp32 GEMM engine
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "formats/float_format.hpp"
#include "sim/schemes/builtin.hpp"

namespace lpsim::schemes {
namespace {

using nn::Direction;
using nn::LayerKind;
using nn::Role;

double parse_number(const std::string& key, const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value > 0) ||
      !std::isfinite(value))
    throw std::invalid_argument("fp16-mixed option " + key + ": \"" + text +
                                "\" is not a positive number");
  return value;
}

LossScalePolicy loss_scale_policy(OptionReader& options) {
  const std::string mode = options.text("loss_scale", "apex");
  const std::string init = options.text("init_scale", "");
  const std::string interval = options.text("growth_interval", "");
  const bool numeric =
      !mode.empty() && (std::isdigit(static_cast<unsigned char>(mode[0])) || mode[0] == '.');
  LossScalePolicy p =
      numeric ? static_loss_scale(parse_number("loss_scale", mode)) : dynamic_loss_scale(mode);
  if (!init.empty()) {
    if (!p.dynamic)
      throw std::invalid_argument("fp16-mixed option init_scale needs a dynamic loss_scale");
    p.init = parse_number("init_scale", init);
  }
  if (!interval.empty()) {
    if (!p.dynamic)
      throw std::invalid_argument("fp16-mixed option growth_interval needs a dynamic loss_scale");
    const double steps = parse_number("growth_interval", interval);
    if (steps != std::floor(steps))
      throw std::invalid_argument("fp16-mixed option growth_interval: not a whole number");
    p.interval = std::int64_t(steps);
  }
  return p;
}

class Fp16Mixed final : public Scheme {
 public:
  Fp16Mixed(LossScalePolicy scaling, Rounding rounding, std::uint64_t seed,
            std::shared_ptr<const nn::GemmEngine> engine)
      : scaling_(std::move(scaling)), engine_(std::move(engine)) {
    fp16_.format = Format{*find_float_preset("fp16")};
    fp16_.policy.rounding.mode = rounding;
    fp16_.policy.rounding.seed = seed;
    fp16_.policy.overflow = Overflow::to_inf;
  }

  std::string name() const override { return "fp16-mixed"; }

  ConfigEntries options() const override {
    ConfigEntries e = {{"loss_scale", scaling_.name},
                       {"init_scale", std::to_string(scaling_.init)},
                       {"rounding", std::string(to_string(fp16_.policy.rounding.mode))},
                       {"engine", engine_->name()}};
    if (scaling_.dynamic) e.emplace_back("growth_interval", std::to_string(scaling_.interval));
    return e;
  }

  nn::LayerPlan plan(const nn::Layer& layer, const LayerPosition&) const override {
    nn::LayerPlan plan;
    plan.engine = engine_;
    switch (layer.kind()) {
      case LayerKind::conv:
      case LayerKind::linear:
        for (auto [role, direction] : {std::pair{Role::W, Direction::forward},
                                       {Role::W, Direction::backward},
                                       {Role::G, Direction::backward}})
          plan.spec(role, direction) = fp16_;
        [[fallthrough]];
      case LayerKind::batchnorm:  // fp16 in and out, fp32 inside and for its parameters
      case LayerKind::relu:
      case LayerKind::maxpool:
      case LayerKind::avgpool:
      case LayerKind::dropout:
        plan.spec(Role::A, Direction::forward) = fp16_;
        plan.spec(Role::E, Direction::backward) = fp16_;
        break;
      default:  // flatten only reshapes values that are fp16 already
        break;
    }
    return plan;
  }

  nn::QuantSpec logits() const override { return fp16_; }
  LossScalePolicy loss_scaling() const override { return scaling_; }

 private:
  LossScalePolicy scaling_;
  std::shared_ptr<const nn::GemmEngine> engine_;
  nn::QuantSpec fp16_;
};

}  // namespace

std::unique_ptr<Scheme> make_fp16_mixed(OptionReader& options, std::uint64_t seed) {
  LossScalePolicy scaling = loss_scale_policy(options);
  const std::string rounding_name = options.text("rounding", "nearest-even");
  Rounding rounding;
  if (!parse_rounding(rounding_name, rounding) || rounding == Rounding::niti_psr)
    throw std::invalid_argument("fp16-mixed option rounding: \"" + rounding_name +
                                "\" is not a float rounding mode");
  return std::make_unique<Fp16Mixed>(std::move(scaling), rounding, seed,
                                     fp32_engine_option(options));
}

}  // namespace lpsim::schemes
