#include "sim/schemes/wageubn/optimizer.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/wageubn/quantize.hpp"
#include "sim/schemes/wageubn/quantizers.hpp"

namespace lpsim::schemes::wageubn {

float quantize_lr(float lr, int bits) {
  if (bits >= kFullPrecision) return lr;
  const float s = steps(bits), limit = 1.0f - 1.0f / s;
  return std::clamp(direct(lr, s), -limit, limit);
}

namespace {

// "conv1.weight" -> ("conv1", ""), "conv1.bias" -> ("conv1", "bias"), "bn1.gamma" -> ("bn1",
// "gamma").
std::pair<std::string, std::string> layer_and_part(const std::string& parameter) {
  const std::size_t dot = parameter.rfind('.');
  const std::string part = parameter.substr(dot + 1);
  return {parameter.substr(0, dot), part == "weight" ? "" : part};
}

class Momentum final : public nn::Optimizer {
 public:
  explicit Momentum(MomentumRule rule) : rule_(std::move(rule)) {}

  std::string describe() const override {
    std::ostringstream text;
    text << "wageubn-momentum:momentum=" << rule_.momentum << ":lr=" << bits_text(rule_.lr_bits)
         << ":momentum_bits=" << rule_.momentum_bits << ":weight_bits=" << rule_.weight_bits
         << ":init_bits=" << rule_.init_bits
         << ":requantize=" << (rule_.requantize_first ? "first" : "after-update");
    return text.str();
  }

  std::vector<nn::StatColumn> columns() const override {
    return {{"lr_q", "1", "the quantized learning rate flr(lr) of the update (U rows)"},
            g_scale_column(),
            zeroed_fraction_column()};
  }

  // Decides which parameters have quantized storage and quantizes their initial weights.
  void start(std::span<nn::Parameter* const> params) override {
    std::string first, last;
    for (const nn::Parameter* p : params) {
      if (p->batchnorm) continue;
      if (first.empty()) first = layer_and_part(p->name).first;
      last = layer_and_part(p->name).first;
    }
    quantized_.clear();
    const float s = steps(rule_.init_bits);
    for (nn::Parameter* p : params) {
      const std::string layer = layer_and_part(p->name).first;
      const bool fp32 =
          (layer == first && !rule_.quantize_first) || (layer == last && !rule_.quantize_last);
      quantized_.push_back(!p->batchnorm && fp32 ? 0 : 1);
      if (quantized_.back() && rule_.init_bits < kFullPrecision)
        for (float& w : p->value.data) w = direct(w, s);
    }
  }

  void update(std::span<nn::Parameter* const> params, const nn::UpdateContext& c) override {
    if (quantized_.size() != params.size())
      throw std::logic_error("wageubn-momentum: update() without start() on these parameters");
    const float lr = quantize_lr(
        float(double(c.lr) * rule_.schedule->lr_factor(c.step, c.total_steps)), rule_.lr_bits);
    const float momentum = rule_.momentum;
    const bool counted = c.recorder != nullptr;
    for (std::size_t k = 0; k < params.size(); ++k) {
      nn::Parameter& p = *params[k];
      if (p.velocity.size() != p.value.size()) {
        p.velocity.resize(p.value.dims);
        std::fill(p.velocity.data.begin(), p.velocity.data.end(), 0.0f);
      }
      Tally tally;
      if (quantized_[k] && rule_.requantize_first) tally = requantize(p, counted, c.pool);
      float* w = p.value.data.data();
      float* v = p.velocity.data.data();
      const float* g = p.grad.data.data();
      nn::parallel_chunks(c.pool, p.value.size(), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
          v[i] = momentum * v[i] + g[i];
          w[i] = w[i] - v[i] * lr;
        }
      });
      if (quantized_[k] && !rule_.requantize_first) tally = requantize(p, counted, c.pool);
      if (!c.recorder) continue;
      if (!quantized_[k]) tally = observe(p.velocity.span(), c.pool);
      record(p, tally, lr, c);
    }
  }

 private:
  static std::string bits_text(int bits) {
    return bits >= kFullPrecision ? "fp32" : "flr(" + std::to_string(bits) + ")";
  }

  // accum := Q(accum, momentum_bits), w := Q(w, weight_bits); the momentum's tally (counted in
  // recorded steps).
  Tally requantize(nn::Parameter& p, bool counted, nn::ThreadPool& pool) const {
    Tally tally;
    if (rule_.momentum_bits < kFullPrecision)
      tally = direct_quantize(p.velocity.span(), rule_.momentum_bits, false, counted, pool);
    if (rule_.weight_bits < kFullPrecision)
      direct_quantize(p.value.span(), rule_.weight_bits, false, false, pool);
    return tally;
  }

  void record(const nn::Parameter& p, const Tally& tally, float lr,
              const nn::UpdateContext& c) const {
    nn::TensorStats stats;
    stats.elements = std::int64_t(p.value.size());
    stats.max_abs = tally.max_abs;
    stats.counts = tally.counts;
    stats.extras = {{"lr_q", double(lr)},
                    {"g_scale", double(rule_.schedule->g_scale(c.step, c.total_steps))},
                    {"zeroed_fraction", tally.zeroed_fraction()}};
    const auto [layer, part] = layer_and_part(p.name);
    c.recorder->record(layer, nn::trace_role(nn::Role::U, nn::Direction::backward, part), stats);
  }

  MomentumRule rule_;
  std::vector<char> quantized_;  // per parameter: storage re-quantized
};

}  // namespace

std::unique_ptr<nn::Optimizer> make_optimizer(const MomentumRule& rule) {
  return std::make_unique<Momentum>(rule);
}

}  // namespace lpsim::schemes::wageubn
