// WAGEUBN's quantization primitives (Yang et al. 2019, SCHEMES.md §3; the code's Quantize.py),
// computed in fp32 as the TensorFlow code computes them ("fake quantization"):
//   Q(x, k)    = round(x 2^(k-1)) / 2^(k-1), round half to even, no saturation (grid 2^(1-k))
//   clip(x, k) = clamp(x, -1 + 2^(1-k), 1 - 2^(1-k))
//   R(x)       = 2^round(log2 max|x|), the nearest power of two, so max|x| / R < sqrt(2)
// and the tensor rules built from them, each converting a span in place and returning what it
// did (Tally):
//   direct    Q(x, k), or clip(Q(x, k), k) for the weights (fa, fw, the BN tensors, fgBN)
//   shift     R clamp(Q(x / R, k), -1, 1)                                           (fe1, E1)
//   flag      s = R / 2^(k-1), y = x / s: |y| < 1: sign clamp(Q(|y|, k), 1) (grid 2^(1-k) s);
//             |y| >= 1: sign clamp(round(|y|), 2^(k-1) - 1) (integer grid s); result s y_q  (fe2)
//   constant  n = Q(g_scale x / R, 32); n = sign (floor|n| + [frac > U]) with U uniform on the
//             grid 2^-23 (tf.random_uniform) and frac == U adding `tie` (the code: 0.5);
//             n = clamp(n, g_scale - 1); G = Q(n / (128 2^(k-1)), 15)                   (fg, G)
// An all-zero tensor takes R = 1 and stays zero (TensorFlow's R(0) = 0 gives NaN there).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "formats/flags.hpp"

namespace lpsim::nn {
class ThreadPool;
}

namespace lpsim::schemes::wageubn {

// Rounds to the nearest integer, ties to even, as tf.round; keeps the sign of zero (-0.3 -> -0),
// infinities and NaN.
inline float round_half_even(float y) {
  const float a = std::fabs(y);
  // a + 2^23 has unit spacing in fp32, so the addition rounds a to an integer, ties to even.
  const float r = a < 0x1p23f ? (a + 0x1p23f) - 0x1p23f : a;
  return std::copysign(r, y);
}

// 2^(k-1): Q(., k) counts in steps of 1 / steps(k).
inline float steps(int bits) { return std::ldexp(1.0f, bits - 1); }

// Q(x, k) with s = steps(k) (x s and the division, a product with 2^(1-k), are exact).
inline float direct(float x, float s) { return round_half_even(x * s) * (1.0f / s); }

// round(log2 max) for max = largest finite |x| (0 for max = 0): the exponent of R.
int scale_exponent(float max_abs);

// What a conversion did: the counts of formats' conversions (saturated = clamped by the rule) and
// WAGEUBN's own statistics.
struct Tally {
  ConversionCounts counts;
  std::uint64_t nonzero_inputs = 0;
  std::uint64_t fine = 0;  // flag: non-zero elements in the |y| < 1 branch
  float min = std::numeric_limits<float>::infinity();  // of the results
  float max = -std::numeric_limits<float>::infinity();
  float max_abs = 0;  // largest finite |x| before the conversion
  int exponent = 0;   // shift, flag, constant: log2 R
  Tally& operator+=(const Tally& o);
  // The fraction of the non-zero inputs that became zero (0 when there are none).
  double zeroed_fraction() const;
};

// The tally of leaving x as it is (a part kept in full precision).
Tally observe(std::span<const float> x, nn::ThreadPool& pool);

// The tensor rules. Bits: 2..31. They run over fixed chunks of the span on the pool, so the bits
// do not depend on its thread count. Without `counted` the tally holds only the exponent and
// the rule's own counts (clamps, the flag branch), not the per-element statistics.
Tally direct_quantize(std::span<float> x, int bits, bool clipped, bool counted,
                      nn::ThreadPool& pool);
Tally shift_quantize(std::span<float> x, int bits, bool counted, nn::ThreadPool& pool);
Tally flag_quantize(std::span<float> x, int bits, bool counted, nn::ThreadPool& pool);

// The uniform numbers of the constant rule: element i draws the top 23 bits of formats'
// Philox stochastic_random(seed, stream, first_index + i), scaled by 2^-23.
struct UniformSource {
  std::uint64_t seed = 0;
  std::uint32_t stream = 0;
  std::uint64_t first_index = 0;
  float at(std::uint64_t i) const;
};
Tally constant_quantize(std::span<float> x, int bits, float g_scale, float tie,
                        const UniformSource& uniform, bool counted, nn::ThreadPool& pool);

}  // namespace lpsim::schemes::wageubn
