// dfp16 (Das et al. 2018, SCHEMES.md §1): the GEMM operands of every convolution and fully
// connected layer -- input activations and weights forward, weights and the output gradient
// dL/dY backward -- are INT16 dynamic fixed point with one shared exponent per tensor (GxM's FPHW
// rule with headroom add_shift), and the products run on the int16 engine with int32 chains
// flushed to fp32. Master weights, weight gradients, the update, batch norm, ReLU, pooling and
// softmax stay fp32; no loss scaling.
//
// Options: acc        the int32 accumulator (default acc:int32:wrap:flush=256, Das' chains of 256
//                     channels; also e.g. acc:int32:wrap or acc:int32:sat:group=2)
//          rounding   of every DFP16 conversion (default nearest-even)
//          add_shift  headroom bits of the shared exponent rule (default 2, as GxM)
#include <charconv>
#include <stdexcept>

#include "sim/nn/engine_int16.hpp"
#include "sim/schemes/builtin.hpp"

namespace lpsim::schemes {
namespace {

using nn::Direction;
using nn::LayerKind;
using nn::Role;

class Dfp16 final : public Scheme {
 public:
  Dfp16(nn::QuantSpec dfp16, std::shared_ptr<const nn::GemmEngine> engine)
      : dfp16_(std::move(dfp16)), engine_(std::move(engine)) {}

  std::string name() const override { return "dfp16"; }

  ConfigEntries options() const override {
    const auto& block = std::get<BlockFormat>(*dfp16_.format);
    return {{"format", to_string(block)},
            {"rounding", std::string(to_string(dfp16_.policy.rounding.mode))},
            {"add_shift", std::to_string(block.add_shift)},
            {"engine", engine_->name()}};
  }

  nn::LayerPlan plan(const nn::Layer& layer, const LayerPosition&) const override {
    nn::LayerPlan plan;
    plan.engine = engine_;
    if (layer.kind() == LayerKind::conv || layer.kind() == LayerKind::linear)
      for (auto [role, direction] : {std::pair{Role::A, Direction::forward},
                                     {Role::W, Direction::forward},
                                     {Role::W, Direction::backward},
                                     {Role::E, Direction::backward}})
        plan.spec(role, direction) = dfp16_;
    return plan;
  }

 private:
  nn::QuantSpec dfp16_;
  std::shared_ptr<const nn::GemmEngine> engine_;
};

int parse_add_shift(const std::string& text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > 15)
    throw std::invalid_argument("dfp16 option add_shift: \"" + text + "\" is not an integer 0..15");
  return value;
}

}  // namespace

std::unique_ptr<Scheme> make_dfp16(OptionReader& options, std::uint64_t seed) {
  nn::QuantSpec spec;
  auto block = std::get<BlockFormat>(parse_format("dfp16"));
  block.add_shift = parse_add_shift(options.text("add_shift", "2"));
  spec.format = Format{block};
  const std::string rounding_name = options.text("rounding", "nearest-even");
  if (!parse_rounding(rounding_name, spec.policy.rounding.mode) ||
      spec.policy.rounding.mode == Rounding::niti_psr)
    throw std::invalid_argument("dfp16 option rounding: \"" + rounding_name +
                                "\" is not a rounding mode for DFP16");
  spec.policy.rounding.seed = seed;
  spec.keep_codes = true;
  const AccumulatorSpec acc = parse_accumulator(options.text("acc", "acc:int32:wrap:flush=256"));
  return std::make_unique<Dfp16>(std::move(spec), nn::int16_engine(acc));
}

}  // namespace lpsim::schemes
