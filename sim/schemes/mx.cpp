// mx: OCP Microscaling (MX v1.0) GEMM operands with fp32 accumulation. Every convolution and fully
// connected layer quantizes its GEMM inputs -- activations A and weights W forward, weights W and
// the output gradient E backward -- in blocks of 32 elements along the dimension the GEMM reduces,
// with one E8M0 scale 2^(floor(log2 amax) - emax_elem) per block and elements converted with
// saturation (docs/semantics.md §8); the fp32 engine multiplies the dequantized values. Which
// dimension each operand is blocked along is sim/schemes/scaled/mx_quantizer.hpp: A and W along
// their input channels forward, W along its filters and E along its channels for backward-data
// (W is requantized from the fp32 master weights), and, by default, A and E requantized along the
// batch for the weight gradient, as microxcaling's MX conv does. Master weights, the weight
// gradients, biases, the update and everything outside the GEMMs stay fp32; no loss scaling.
//
// Options: element       of A and W: mxint8 | mxfp8-e4m3 (default) | mxfp8-e5m2 | mxfp6-e3m2 |
//                        mxfp6-e2m3 | mxfp4
//          grad_element  of E (default: element)
//          rounding      of the elements (default nearest-even, as OCP MX)
//          weight_grad   requantize (default): the weight gradient's operands are blocked along
//                        the batch, from fp32 copies | reuse: it multiplies the A and E the other
//                        two GEMMs used (blocked along channels), one copy per tensor
//          first_layer, last_layer  mx (default) | fp32: keep the first / last GEMM layer in fp32
//          engine        onednn (default) | openblas: the fp32 GEMM engine
#include <stdexcept>

#include "formats/syntax.hpp"
#include "sim/schemes/builtin.hpp"
#include "sim/schemes/scaled/mx_quantizer.hpp"
#include "sim/schemes/scaled/options.hpp"

namespace lpsim::schemes {
namespace {

using nn::Direction;
using nn::Role;
using scaled::BlockAxis;
using scaled::MxQuantizer;

constexpr char kName[] = "mx";

// The element option's names and the formats/ syntax they stand for.
struct MxElement {
  const char *name, *format;
};
constexpr MxElement kElements[] = {{"mxint8", "mxint8"},         {"mxfp8-e4m3", "mxfp8:e4m3"},
                                   {"mxfp8-e5m2", "mxfp8:e5m2"}, {"mxfp6-e3m2", "mxfp6:e3m2"},
                                   {"mxfp6-e2m3", "mxfp6:e2m3"}, {"mxfp4", "mxfp4"}};

const MxElement& read_element(OptionReader& options, const std::string& key,
                              const std::string& fallback) {
  const std::string name = options.text(key, fallback);
  std::string listed;
  for (const MxElement& e : kElements) {
    if (name == e.name) return e;
    listed += (listed.empty() ? "" : ", ") + std::string(e.name);
  }
  throw std::invalid_argument(std::string(kName) + " option " + key + ": \"" + name +
                              "\" (expected " + listed + ")");
}

BlockFormat block_format(const MxElement& e) {
  return std::get<BlockFormat>(parse_format(e.format));
}

class Mx final : public Scheme {
 public:
  Mx(const MxElement& element, const MxElement& grad_element, ConvertPolicy policy, bool requantize,
     scaled::LayerSelection layers, std::shared_ptr<const nn::GemmEngine> engine)
      : element_(element),
        grad_element_(grad_element),
        policy_(policy),
        requantize_(requantize),
        layers_(std::move(layers)),
        engine_(std::move(engine)) {}

  std::string name() const override { return kName; }

  ConfigEntries options() const override {
    ConfigEntries e = {{"element", element_.name},
                       {"grad_element", grad_element_.name},
                       {"rounding", std::string(to_string(policy_.rounding.mode))},
                       {"weight_grad", requantize_ ? "requantize" : "reuse"},
                       {"engine", engine_->name()}};
    layers_.add_options(e);
    return e;
  }

  nn::LayerPlan plan(const nn::Layer&, const LayerPosition& position) const override {
    nn::LayerPlan plan;
    plan.engine = engine_;
    if (!layers_.quantizes(position)) return plan;
    auto quantizer = [&](const MxElement& element, BlockAxis axis, bool keep_original) {
      return std::make_shared<MxQuantizer>(block_format(element), policy_, axis, keep_original);
    };
    const auto activations = quantizer(element_, BlockAxis::dim1, requantize_);
    const auto gradients = quantizer(grad_element_, BlockAxis::dim1, requantize_);
    plan.spec(Role::A, Direction::forward).custom = activations;
    plan.spec(Role::W, Direction::forward).custom = quantizer(element_, BlockAxis::dim1, false);
    plan.spec(Role::W, Direction::backward).custom = quantizer(element_, BlockAxis::dim0, false);
    plan.spec(Role::E, Direction::backward).custom = gradients;
    if (requantize_) plan.engine = scaled::mx_weight_grad_engine(engine_, activations, gradients);
    return plan;
  }

 private:
  const MxElement& element_;
  const MxElement& grad_element_;
  ConvertPolicy policy_;
  bool requantize_;
  scaled::LayerSelection layers_;
  std::shared_ptr<const nn::GemmEngine> engine_;
};

}  // namespace

std::unique_ptr<Scheme> make_mx(OptionReader& options, std::uint64_t seed) {
  const MxElement& element = read_element(options, "element", "mxfp8-e4m3");
  const MxElement& grad_element = read_element(options, "grad_element", element.name);
  ConvertPolicy policy;
  policy.rounding.mode = scaled::read_rounding(options, kName);
  policy.rounding.seed = seed;
  policy.overflow = Overflow::saturate;
  const bool requantize =
      scaled::read_choice(options, kName, "weight_grad", {"requantize", "reuse"}) == "requantize";
  scaled::LayerSelection layers = scaled::read_layer_selection(options, kName, "mx");
  return std::make_unique<Mx>(element, grad_element, policy, requantize, std::move(layers),
                              fp32_engine_option(options));
}

}  // namespace lpsim::schemes
