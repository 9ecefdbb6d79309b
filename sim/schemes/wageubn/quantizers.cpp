#include "sim/schemes/wageubn/quantizers.hpp"

#include <sstream>
#include <stdexcept>

#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/wageubn/quantize.hpp"

namespace lpsim::schemes::wageubn {

nn::StatColumn r_exponent_column() {
  return {"r_exponent", "log2",
          "WAGEUBN's scale R = 2^r_exponent = 2^round(log2 max|x|) (E1, E2, G rows)", true};
}
nn::StatColumn g_scale_column() {
  return {"g_scale", "1",
          "WAGEUBN's g_scale: the stochastic gradient integers lie in +-(g_scale - 1) (G, U rows)"};
}
nn::StatColumn fine_fraction_column() {
  return {"fine_fraction", "1",
          "E2: share of the non-zero elements in the flag rule's |y| < 1 branch (grid 2^-7 s)"};
}
nn::StatColumn zeroed_fraction_column() {
  return {"zeroed_fraction", "1",
          "share of the non-zero inputs the conversion made zero (G: stochastic rounding to 0; "
          "U: momentum elements zeroed by its grid)"};
}
nn::StatColumn q_min_column() {
  return {"q_min", "1", "smallest value after the conversion (BN mean and std: mu_q, sigma_q)"};
}
nn::StatColumn q_max_column() {
  return {"q_max", "1", "largest value after the conversion (BN mean and std: mu_q, sigma_q)"};
}

namespace {

std::string number_text(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
}

std::string q_text(int bits) {
  return bits >= kFullPrecision ? "fp32" : "Q(x," + std::to_string(bits) + ")";
}

// The fixed statistics, and the extras every rule gives.
void fill(nn::TensorStats* stats, const Tally& t) {
  stats->max_abs = t.max_abs;
  stats->counts = t.counts;
}
void fill_range(nn::TensorStats* stats, const Tally& t) {
  if (t.min > t.max) return;  // no finite, non-NaN result
  stats->extras.emplace_back("q_min", double(t.min));
  stats->extras.emplace_back("q_max", double(t.max));
}
void fill_scale(nn::TensorStats* stats, const Tally& t) {
  stats->extras.emplace_back("r_exponent", std::int64_t(t.exponent));
  stats->extras.emplace_back("zeroed_fraction", t.zeroed_fraction());
}

class Direct final : public nn::Quantizer {
 public:
  Direct(std::string rule, int bits, bool clipped)
      : rule_(std::move(rule)), bits_(bits), clipped_(clipped) {}
  std::string describe() const override {
    const std::string q = q_text(bits_);
    return rule_ + ":" + (clipped_ ? "clip(" + q + "," + std::to_string(bits_) + ")" : q);
  }
  std::vector<nn::StatColumn> columns() const override { return {q_min_column(), q_max_column()}; }
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override {
    const Tally tally =
        direct_quantize(t.values.span(), bits_, clipped_, stats != nullptr, context.pool);
    if (!stats) return;
    fill(stats, tally);
    fill_range(stats, tally);
  }

 private:
  std::string rule_;
  int bits_;
  bool clipped_;
};

class BatchNorm final : public nn::Quantizer {
 public:
  explicit BatchNorm(const BatchNormBits& bits) : bits_(bits) {}
  std::string describe() const override {
    return "wageubn-bn:gamma=" + q_text(bits_.gamma) + ":beta=" + q_text(bits_.beta) +
           ":mean=" + q_text(bits_.mean) + ":std=" + q_text(bits_.std) + "+2^-15" +
           ":xhat=" + q_text(bits_.xhat);
  }
  std::vector<nn::StatColumn> columns() const override { return {q_min_column(), q_max_column()}; }
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override {
    const int bits = bits_of(context.part);
    const std::span<float> x = t.values.span();
    Tally tally;
    if (bits < kFullPrecision)
      tally = direct_quantize(x, bits, false, stats != nullptr, context.pool);
    else if (stats)
      tally = observe(x, context.pool);
    if (context.part == "std") {
      for (float& v : x) v += kBatchNormEpsilon;
      tally.min += kBatchNormEpsilon;
      tally.max += kBatchNormEpsilon;
    }
    if (!stats) return;
    fill(stats, tally);
    fill_range(stats, tally);
  }

 private:
  int bits_of(std::string_view part) const {
    if (part == "gamma") return bits_.gamma;
    if (part == "beta") return bits_.beta;
    if (part == "mean") return bits_.mean;
    if (part == "std") return bits_.std;
    if (part == "xhat") return bits_.xhat;
    throw std::logic_error("wageubn-bn: no rule for the batch-norm part \"" + std::string(part) +
                           "\"");
  }
  BatchNormBits bits_;
};

// fe1 (shift) or fe2 (flag): the gradient rules of a tensor-wide R.
class ScaledGradient final : public nn::Quantizer {
 public:
  ScaledGradient(bool flag, int bits) : flag_(flag), bits_(bits) {}
  std::string describe() const override {
    const std::string k = std::to_string(bits_);
    return flag_ ? "wageubn-fe2:flag(" + k + "+1)" : "wageubn-fe1:R*clamp(Q(x/R," + k + "),-1,1)";
  }
  std::vector<nn::StatColumn> columns() const override {
    if (!flag_) return {r_exponent_column(), zeroed_fraction_column()};
    return {r_exponent_column(), fine_fraction_column(), zeroed_fraction_column()};
  }
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override {
    const auto rule = flag_ ? flag_quantize : shift_quantize;
    const Tally tally = rule(t.values.span(), bits_, stats != nullptr, context.pool);
    if (!stats) return;
    fill(stats, tally);
    fill_scale(stats, tally);
    if (!flag_) return;
    const double nonzero = double(tally.nonzero_inputs);
    stats->extras.emplace_back("fine_fraction", nonzero ? double(tally.fine) / nonzero : 0.0);
  }

 private:
  bool flag_;
  int bits_;
};

class Gradient final : public nn::Quantizer {
 public:
  Gradient(GradientRule rule, const nn::Tensor* weight, const nn::Tensor* bias)
      : rule_(std::move(rule)), weight_(weight), bias_(bias) {}
  std::string describe() const override {
    const std::string decay = "weight_decay=" + number_text(rule_.weight_decay);
    if (rule_.bits >= kFullPrecision) return "wageubn-fg:fp32:" + decay;
    return "wageubn-fg:bits=" + std::to_string(rule_.bits) +
           ":g_scale=" + rule_.schedule->g_scale_text() + ":sr_tie=" + number_text(rule_.tie) +
           ":" + decay;
  }
  std::vector<nn::StatColumn> columns() const override {
    if (rule_.bits >= kFullPrecision) return {};
    return {r_exponent_column(), g_scale_column(), zeroed_fraction_column()};
  }
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override {
    const nn::Tensor* w = context.part == "bias" ? bias_ : weight_;
    if (!w || w->size() != t.values.size())
      throw std::logic_error("wageubn-fg: the gradient of \"" + std::string(context.part) +
                             "\" does not match its layer's parameter");
    float* g = t.values.data.data();
    const float* v = w->data.data();
    const float decay = rule_.weight_decay;
    nn::parallel_chunks(context.pool, t.values.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) g[i] += decay * v[i];
    });
    if (rule_.bits >= kFullPrecision) {
      if (stats) fill(stats, observe(t.values.span(), context.pool));
      return;
    }
    const float g_scale = rule_.schedule->g_scale(context.step, context.total_steps);
    const Tally tally = constant_quantize(
        t.values.span(), rule_.bits, g_scale, rule_.tie,
        {.seed = rule_.seed, .stream = context.stream, .first_index = context.first_index},
        stats != nullptr, context.pool);
    if (!stats) return;
    fill(stats, tally);
    fill_scale(stats, tally);
    stats->extras.emplace_back("g_scale", double(g_scale));
  }

 private:
  GradientRule rule_;
  const nn::Tensor* weight_;
  const nn::Tensor* bias_;
};

}  // namespace

std::shared_ptr<nn::Quantizer> make_direct(std::string rule, int bits, bool clipped) {
  return std::make_shared<Direct>(std::move(rule), bits, clipped);
}
std::shared_ptr<nn::Quantizer> make_batchnorm(const BatchNormBits& bits) {
  return std::make_shared<BatchNorm>(bits);
}
std::shared_ptr<nn::Quantizer> make_shift(int bits) {
  return std::make_shared<ScaledGradient>(false, bits);
}
std::shared_ptr<nn::Quantizer> make_flag(int bits) {
  return std::make_shared<ScaledGradient>(true, bits);
}
std::shared_ptr<nn::Quantizer> make_gradient(const GradientRule& rule, const nn::Tensor* weight,
                                             const nn::Tensor* bias) {
  return std::make_shared<Gradient>(rule, weight, bias);
}

}  // namespace lpsim::schemes::wageubn
