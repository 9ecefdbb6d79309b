// A numerics scheme decides, for every layer of a model, the representation (format, rounding,
// overflow, or its own Quantizer) of each tensor it converts -- per (role W/A/G/E/U/BN,
// direction) -- which GEMM engine computes its convolutions and products, how the loss is scaled
// and how the weights are updated. The float learner applies it once to the model (apply_scheme)
// and the trainer writes every choice to the trace's /config.
//
// Adding a scheme: derive from Scheme, read its options in the constructor (reject unknown keys
// with OptionReader::finish), register it in make_scheme. An integer scheme returns
// QuantSpec{.format = dfp16, .keep_codes = true} for the GEMM operands and its own GemmEngine
// from plan(); the layers then hand the engine QTensors with codes and shared exponents. A scheme
// whose training step cannot be written as layer plans (integer-only networks) returns its own
// Learner from learner().
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/nn/layer.hpp"
#include "sim/nn/models.hpp"
#include "sim/nn/optimizer.hpp"
#include "sim/schemes/learner.hpp"
#include "sim/schemes/loss_scaler.hpp"

namespace lpsim::schemes {

// key -> value as written on the command line (--scheme-option key=value) or in the TOML
// [scheme] table; each scheme documents its keys.
using SchemeOptions = std::map<std::string, std::string>;
// Where a leaf layer sits in the model: the first and last GEMM layers (the network's input and
// classifier) are often kept in higher precision.
struct LayerPosition {
  int gemm_index = -1;  // among the conv and linear layers in forward order; -1 for other kinds
  int gemm_layers = 0;  // conv and linear layers in the model
  bool first_gemm() const { return gemm_index == 0; }
  bool last_gemm() const { return gemm_index >= 0 && gemm_index == gemm_layers - 1; }
};

// What a scheme's learner is built from.
struct LearnerSettings {
  nn::Model& model;  // built and initialised from the run's seed
  nn::SgdOptions sgd;
  std::uint64_t seed = 0;
  std::int64_t epochs = 1, steps_per_epoch = 1;  // the run's length
};

class Scheme {
 public:
  virtual ~Scheme() = default;
  virtual std::string name() const = 0;
  // The scheme's resolved options ("loss_scale" -> "apex", ...).
  virtual ConfigEntries options() const = 0;
  // The plan of one leaf layer (never called for containers). Called once per layer: a plan's
  // custom quantizers hold that layer's state.
  virtual nn::LayerPlan plan(const nn::Layer& layer, const LayerPosition& position) const = 0;
  // How the logits are stored before the loss reads them.
  virtual nn::QuantSpec logits() const { return {}; }
  virtual LossScalePolicy loss_scaling() const { return no_loss_scaling(); }
  // What updates the fp32 master weights (SGD with the run's momentum and weight decay).
  virtual std::unique_ptr<nn::Optimizer> optimizer(const nn::SgdOptions& sgd) const {
    return nn::make_sgd(sgd);
  }
  // A learner of the scheme's own, or nullptr for the float learner (plans, loss scaling,
  // optimizer()). Throws std::invalid_argument (one line) for a model it cannot train.
  virtual std::unique_ptr<Learner> learner(const LearnerSettings& settings) const {
    (void)settings;
    return nullptr;
  }
};

// The built-in schemes: fp32, fp16-mixed, dfp16, fp8-delayed, mx, wageubn-8 or niti-int8.
std::span<const std::string_view> scheme_names();

// Throws std::invalid_argument (one line) for an unknown scheme, an option the scheme does not
// take, or a bad option value. `seed` keys stochastic rounding.
std::unique_ptr<Scheme> make_scheme(std::string_view name, const SchemeOptions& options,
                                    std::uint64_t seed);

// Sets the plan of every leaf layer of the model and returns the choices for /config:
// "scheme.<layer>.<role>" -> representation (role as nn::trace_role names it) for every point
// the layer converts at, and "scheme.<layer>.engine" for GEMM layers; then "scheme.logits".
// Custom quantizers' extra columns are appended to `columns` (each name once) when given.
ConfigEntries apply_scheme(const Scheme& scheme, const nn::Model& model,
                           std::vector<nn::StatColumn>* columns = nullptr);

// Reads a scheme's options, remembering which were used.
class OptionReader {
 public:
  OptionReader(std::string scheme, const SchemeOptions& options)
      : scheme_(std::move(scheme)), options_(options) {}
  // The value of `key`, or `fallback` when absent.
  std::string text(const std::string& key, std::string fallback);
  // Throws naming the first option not read, and the keys this scheme takes.
  void finish() const;

 private:
  std::string scheme_;
  const SchemeOptions& options_;
  std::vector<std::string> read_;
};

}  // namespace lpsim::schemes
