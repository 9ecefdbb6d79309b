// NITI's float steps, outside the integer path (see float_boundary.hpp).
#include "sim/schemes/niti/float_boundary.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/schemes/niti/loss.hpp"

namespace lpsim::schemes::niti_float {

namespace {

// ceil(log2 m) of a finite m > 0, exactly (torch.ceil(torch.log2(m))).
int ceil_log2(float m) {
  int e = 0;
  const float f = std::frexp(m, &e);  // m = f * 2^e, f in [0.5, 1)
  return f == 0.5f ? e - 1 : e;
}

float max_magnitude(std::span<const float> x) {
  float m = 0;
  for (float v : x) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

niti::IntTensor float_to_int8(const nn::Tensor& x, nn::TensorStats* stats) {
  const float range = max_magnitude(x.span());
  const int bits = range > 0 ? ceil_log2(range) : 0;
  niti::IntTensor t;
  t.dims = x.dims;
  t.exponent = bits - 7;
  t.codes.resize(x.size());
  std::uint64_t clamped = 0, zero = 0;
  const float scale = std::ldexp(1.0f, 7 - bits);  // NITI's 2**(7 - b): exact products
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float rounded = std::nearbyint(x.data[i] * scale);  // half to even
    const float code = std::clamp(rounded, -128.0f, 127.0f);
    clamped += code != rounded;
    zero += code == 0;
    t.codes[i] = std::int8_t(code);
  }
  if (stats) {
    stats->shared_exponent = t.exponent;
    stats->max_abs = range;
    stats->counts.saturated = clamped;
    stats->counts.zero = zero;
  }
  return t;
}

int weight_quant(std::span<const float> weights, std::span<std::int8_t> codes) {
  const float range = max_magnitude(weights);
  if (!(range > 0)) throw std::invalid_argument("niti-int8: weight_quant of all-zero weights");
  for (std::size_t i = 0; i < weights.size(); ++i)
    codes[i] = std::int8_t(std::nearbyint(weights[i] / range * 127.0f));
  return ceil_log2(range) - 7;
}

void float_division_softmax_error(std::span<const std::int8_t> logits, std::size_t classes,
                                  int exponent, std::span<const std::uint8_t> labels,
                                  std::span<std::int32_t> p) {
  std::vector<float> out(classes);
  std::vector<std::int64_t> taylor(classes);
  for (std::size_t row = 0; row < labels.size(); ++row) {
    const std::int8_t* q = logits.data() + row * classes;
    std::int64_t sum = 0;  // out_grad.sum(1, dtype=torch.int64): each element truncated first
    if (niti::base2_branch(exponent)) {
      for (std::size_t i = 0; i < classes; ++i) {
        float s = float(std::int64_t{q[i]} * 47274) / 32768.0f;
        s = exponent >= 0 ? s * std::ldexp(1.0f, exponent) : s / std::ldexp(1.0f, -exponent);
        out[i] = s;
      }
      const float offset = *std::max_element(out.begin(), out.end()) - 10.0f;
      for (float& s : out) {
        s = std::exp2f(std::max(s - offset, 0.0f)) - 1.0f;
        sum += std::int64_t(s);
      }
      for (float& s : out) s = s * 2048.0f / float(sum);
    } else {
      for (std::size_t i = 0; i < classes; ++i) {
        taylor[i] = niti::taylor_unnormalised(q[i], exponent);
        sum += taylor[i];
      }
      // int64 / int64 divides in float32
      for (std::size_t i = 0; i < classes; ++i) out[i] = float(taylor[i] * 2048) / float(sum);
    }
    std::int64_t total = 0;
    for (float v : out) total += std::int64_t(v);
    out[labels[row]] -= float(total);
    for (std::size_t i = 0; i < classes; ++i) p[row * classes + i] = std::int32_t(out[i]);
  }
}

nn::LossResult logits_loss(const niti::IntTensor& logits, std::span<const std::uint8_t> labels) {
  nn::Tensor values;
  values.resize(logits.dims);
  for (std::size_t i = 0; i < values.size(); ++i)
    values.data[i] = std::ldexp(float(logits.codes[i]), logits.exponent);
  return nn::softmax_cross_entropy(values, labels);
}

}  // namespace lpsim::schemes::niti_float
