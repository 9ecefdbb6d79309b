#include "sim/schemes/wageubn/quantize.hpp"

#include <algorithm>
#include <vector>

#include "formats/block_format.hpp"
#include "formats/rounding.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::schemes::wageubn {

namespace {

// Chunks of a fixed size: the work split never depends on the thread count.
constexpr std::size_t kChunk = std::size_t{1} << 14;

// body(begin, end, tally) over the chunks of [0, n); the chunks' tallies summed.
template <class Body>
Tally tally_chunks(nn::ThreadPool& pool, std::size_t n, const Body& body) {
  std::vector<Tally> parts((n + kChunk - 1) / kChunk);
  pool.parallel_for(parts.size(), [&](std::size_t i) {
    body(i * kChunk, std::min(n, (i + 1) * kChunk), parts[i]);
  });
  Tally total;
  for (const Tally& t : parts) total += t;
  return total;
}

void see_magnitude(Tally& t, float in) {
  const float a = std::fabs(in);
  if (a > t.max_abs && a != INFINITY) t.max_abs = a;  // NaN compares false
}

float largest_magnitude(std::span<const float> x, nn::ThreadPool& pool) {
  return tally_chunks(pool, x.size(),
                      [&](std::size_t begin, std::size_t end, Tally& t) {
                        for (std::size_t i = begin; i < end; ++i) see_magnitude(t, x[i]);
                      })
      .max_abs;
}

// Counts one element's conversion from `in` to `out` (the rule counts its clamps).
void count(Tally& t, float in, float out) {
  see_magnitude(t, in);
  ConversionCounts& c = t.counts;
  if (std::isnan(out)) {
    ++c.nan;
    return;
  }
  if (out != in) ++c.inexact;
  if (in != 0) ++t.nonzero_inputs;
  if (out == 0) {
    ++c.zero;
    if (in != 0) ++c.flushed_to_zero;
  }
  t.min = std::min(t.min, out);
  t.max = std::max(t.max, out);
}

void count_clamp(Tally& t) {
  ++t.counts.overflow;
  ++t.counts.saturated;
}

// x[i] = convert(x[i], i, tally) over the span; counted, each element is also tallied (the
// statistics of recorded steps), otherwise only what `convert` tallies itself.
template <class Convert>
Tally convert_all(std::span<float> x, bool counted, nn::ThreadPool& pool, const Convert& convert) {
  return tally_chunks(pool, x.size(), [&](std::size_t begin, std::size_t end, Tally& t) {
    if (!counted) {
      for (std::size_t i = begin; i < end; ++i) x[i] = convert(x[i], i, t);
      return;
    }
    for (std::size_t i = begin; i < end; ++i) {
      const float in = x[i];
      x[i] = convert(in, i, t);
      count(t, in, x[i]);
    }
  });
}

// A tensor's R = 2^e. Dividing by R is multiplying by 2^-e wherever 2^-e is an fp32 number
// (both are the correctly rounded x 2^-e).
struct Scale {
  int exponent;
  float r, inverse;
  bool exact_inverse;
  float divide(float x) const { return exact_inverse ? x * inverse : x / r; }
};

Scale tensor_scale(std::span<const float> x, nn::ThreadPool& pool) {
  const int e = scale_exponent(largest_magnitude(x, pool));
  return {e, std::ldexp(1.0f, e), std::ldexp(1.0f, -e), e >= -127 && e <= 127};
}

// The sign of y as tf.sign gives it: -1, 0 or +1.
float sign_of(float y) { return float(y > 0) - float(y < 0); }

}  // namespace

int scale_exponent(float max_abs) {
  // formats' WAGEUBN shared-exponent rule is round(log2 max) - (P - 1) for P-bit elements.
  static const BlockFormat shift_rule{.element = FixedFormat::integer(8),
                                      .rule = ExponentRule::wageubn};
  return shared_exponent(shift_rule, max_abs) + 7;
}

Tally& Tally::operator+=(const Tally& o) {
  counts += o.counts;
  nonzero_inputs += o.nonzero_inputs;
  fine += o.fine;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  max_abs = std::max(max_abs, o.max_abs);
  return *this;
}

double Tally::zeroed_fraction() const {
  return nonzero_inputs ? double(counts.flushed_to_zero) / double(nonzero_inputs) : 0.0;
}

Tally observe(std::span<const float> x, nn::ThreadPool& pool) {
  return tally_chunks(pool, x.size(), [&](std::size_t begin, std::size_t end, Tally& t) {
    for (std::size_t i = begin; i < end; ++i) count(t, x[i], x[i]);
  });
}

Tally direct_quantize(std::span<float> x, int bits, bool clipped, bool counted,
                      nn::ThreadPool& pool) {
  const float s = steps(bits), limit = 1.0f - 1.0f / s;
  return convert_all(x, counted, pool, [&](float in, std::size_t, Tally& t) {
    const float q = direct(in, s);
    if (!clipped || std::fabs(q) <= limit) return q;
    count_clamp(t);
    return std::copysign(limit, q);
  });
}

Tally shift_quantize(std::span<float> x, int bits, bool counted, nn::ThreadPool& pool) {
  const float s = steps(bits);
  const Scale scale = tensor_scale(x, pool);
  Tally total = convert_all(x, counted, pool, [&](float in, std::size_t, Tally& t) {
    const float q = direct(scale.divide(in), s);
    if (std::fabs(q) <= 1.0f) return scale.r * q;
    count_clamp(t);
    return scale.r * std::copysign(1.0f, q);
  });
  total.exponent = scale.exponent;
  return total;
}

Tally flag_quantize(std::span<float> x, int bits, bool counted, nn::ThreadPool& pool) {
  const float s = steps(bits), largest = s - 1.0f;
  const Scale scale = tensor_scale(x, pool);
  const float unit = scale.r / s;  // R / 2^(k-1), the integer branch's step
  Tally total = convert_all(x, counted, pool, [&](float in, std::size_t, Tally& t) {
    const float y = scale.divide(in) * s, a = std::fabs(y);  // in / unit
    float q;
    if (a < 1.0f) {
      q = std::min(direct(a, s), 1.0f);
      t.fine += in != 0;
    } else {
      q = round_half_even(a);
      if (q > largest) {
        q = largest;
        count_clamp(t);
      }
    }
    return unit * (sign_of(y) * q);
  });
  total.exponent = scale.exponent;
  return total;
}

float UniformSource::at(std::uint64_t i) const {
  const RoundingSpec spec{
      .mode = Rounding::stochastic, .random_bits = 23, .seed = seed, .stream = stream};
  return float(stochastic_random(spec, first_index + i)) * 0x1p-23f;
}

Tally constant_quantize(std::span<float> x, int bits, float g_scale, float tie,
                        const UniformSource& uniform, bool counted, nn::ThreadPool& pool) {
  const float fine = steps(32), g_steps = steps(15);
  const float divisor = 128.0f * steps(bits), largest = g_scale - 1.0f;
  const Scale scale = tensor_scale(x, pool);
  Tally total = convert_all(x, counted, pool, [&](float in, std::size_t i, Tally& t) {
    const float norm = direct(g_scale * scale.divide(in), fine);
    const float a = std::fabs(norm), whole = std::floor(a), frac = a - whole;
    const float u = uniform.at(i);
    const float up = frac > u ? 1.0f : frac == u ? tie : 0.0f;
    float n = sign_of(norm) * (whole + up);
    if (std::fabs(n) > largest) {
      n = std::copysign(largest, n);
      count_clamp(t);
    }
    return direct(n / divisor, g_steps);  // the code's lr_f = 1
  });
  total.exponent = scale.exponent;
  return total;
}

}  // namespace lpsim::schemes::wageubn
