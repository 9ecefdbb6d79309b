// fp32: the baseline. Every tensor stays fp32; convolutions run on oneDNN (option engine=openblas:
// im2col + OpenBLAS), fully connected layers on OpenBLAS; no loss scaling.
#include "sim/schemes/builtin.hpp"

namespace lpsim::schemes {
namespace {

class Fp32 final : public Scheme {
 public:
  explicit Fp32(std::shared_ptr<const nn::GemmEngine> engine) : engine_(std::move(engine)) {}
  std::string name() const override { return "fp32"; }
  ConfigEntries options() const override { return {{"engine", engine_->name()}}; }
  nn::LayerPlan plan(const nn::Layer& layer, const LayerPosition&) const override {
    (void)layer;
    nn::LayerPlan plan;
    plan.engine = engine_;
    return plan;
  }

 private:
  std::shared_ptr<const nn::GemmEngine> engine_;
};

}  // namespace

std::unique_ptr<Scheme> make_fp32(OptionReader& options) {
  return std::make_unique<Fp32>(fp32_engine_option(options));
}

}  // namespace lpsim::schemes
