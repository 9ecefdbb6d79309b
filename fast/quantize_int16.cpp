// The int16 quantizer (see quantize_int16.hpp). Arithmetic is on doubles: x * 2^(frac - exponent)
// is exact there for every f32 x, so each rounding mode is one exact operation on the scaled
// value, lane by lane as in the scalar path. The AVX2 functions carry target attributes (this
// file is compiled for baseline x86-64) and run only after the ISA check; they use intrinsics
// alone, so no out-of-line function is ever compiled for AVX2.
#include "fast/quantize_int16.hpp"

#include <Random123/philox.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>

namespace lpsim::fast {

namespace {

// Elements per tile: the stochastic random numbers of one tile are drawn together.
constexpr std::size_t kTile = 512;

bool vector_path(std::optional<Isa> isa) {
  const Isa chosen = isa.value_or(active_isa());
  if (!isa_available(chosen))
    throw std::invalid_argument("quantize_int16: ISA " + std::string(to_string(chosen)) +
                                " is not available on this CPU");
  return chosen != Isa::scalar;
}

// What every element of one call shares.
struct Plan {
  Rounding mode;
  double to_code, to_value;  // 2^(frac_bits - exponent), 2^(exponent - frac_bits)
  double min_k, max_k;       // the element's integer range
  double random_range;       // 2^random_bits (stochastic)
};

// stochastic_random(r, first + i) for each i: one Philox4x32-10 block gives four elements.
void stochastic_randoms(const RoundingSpec& r, std::uint64_t first, std::span<std::uint32_t> out) {
  using Philox = r123::Philox4x32_R<10>;
  const Philox::key_type key = {
      {static_cast<std::uint32_t>(r.seed), static_cast<std::uint32_t>(r.seed >> 32)}};
  std::uint64_t index = first;
  for (std::size_t i = 0; i < out.size();) {
    const std::uint64_t block = index >> 2;
    const Philox::ctr_type counter = {
        {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), r.stream, 0}};
    const Philox::ctr_type words = Philox()(counter, key);
    for (std::uint64_t word = index & 3; word < 4 && i < out.size(); ++word, ++i, ++index)
      out[i] = words[word] >> (32 - r.random_bits);
  }
}

// The integer s rounds to (s exact, finite), as round_to_quantum() decides it.
double round_scaled(const Plan& q, double s, std::uint32_t random) {
  switch (q.mode) {
    case Rounding::nearest_even:
      return std::nearbyint(s);  // the default environment: ties to even
    case Rounding::nearest_away:
      return std::round(s);
    case Rounding::toward_zero:
      return std::trunc(s);
    case Rounding::up:
      return std::ceil(s);
    case Rounding::down:
      return std::floor(s);
    case Rounding::odd: {
      const double t = std::trunc(s);
      return t != s && std::fmod(t, 2.0) == 0 ? t + std::copysign(1.0, s) : t;
    }
    case Rounding::stochastic: {
      // The top random_bits bits of the dropped fraction, plus the random number, carry out.
      const double t = std::trunc(s);
      const double fraction_bits = std::floor(std::fabs(s - t) * q.random_range);
      return fraction_bits + random >= q.random_range ? t + std::copysign(1.0, s) : t;
    }
    case Rounding::niti_psr:
      break;
  }
  throw std::logic_error("quantize_int16: unsupported rounding");
}

// One element as quantize_block() converts it.
void quantize_one(const Plan& q, float x, std::uint32_t random, std::int16_t* code, float* value,
                  ConversionCounts& c) {
  double k = 0;  // the code's integer; NaN gives 0
  const bool finite = std::isfinite(x);
  if (std::isnan(x)) ++c.invalid;
  if (finite) {
    const double s = double(x) * q.to_code;
    k = round_scaled(q, s, random) + 0.0;                 // + 0.0: a zero result is +0
    c.inexact += k != s && k >= q.min_k && k <= q.max_k;  // out of range: invalid instead
  }
  if (std::isinf(x) || k < q.min_k || k > q.max_k) {
    k = x < 0 ? q.min_k : q.max_k;
    ++c.invalid;
    ++c.overflow;
    ++c.saturated;
  }
  c.zero += k == 0;
  c.flushed_to_zero += k == 0 && finite && x != 0;
  if (code) *code = static_cast<std::int16_t>(k);
  // Nearest-even keeps the sign of a zero input (quantize_block rounds it directly).
  if (value)
    *value = q.mode == Rounding::nearest_even && x == 0 ? x : static_cast<float>(k * q.to_value);
}

void quantize_scalar(const Plan& q, const RoundingSpec& rounding, std::span<const float> in,
                     std::int16_t* codes, float* values, std::uint64_t first_index,
                     ConversionCounts& c) {
  std::array<std::uint32_t, kTile> random{};
  for (std::size_t begin = 0; begin < in.size(); begin += kTile) {
    const std::size_t n = std::min(kTile, in.size() - begin);
    if (q.mode == Rounding::stochastic)
      stochastic_randoms(rounding, first_index + begin, std::span(random).first(n));
    for (std::size_t i = 0; i < n; ++i)
      quantize_one(q, in[begin + i], random[i], codes ? codes + begin + i : nullptr,
                   values ? values + begin + i : nullptr, c);
  }
}

// ---- AVX2 ----------------------------------------------------------------------------------

#define LPSIM_AVX2 __attribute__((target("avx2,fma,popcnt")))

LPSIM_AVX2 float finite_max_abs_avx2(const float* in, std::size_t n) {
  const __m256 magnitude_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 inf = _mm256_set1_ps(INFINITY);
  __m256 m[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                 _mm256_setzero_ps()};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int u = 0; u < 4; ++u) {
      const __m256 a = _mm256_and_ps(_mm256_loadu_ps(in + i + 8 * u), magnitude_mask);
      // NaN and inf lanes count as 0
      m[u] = _mm256_max_ps(m[u], _mm256_and_ps(a, _mm256_cmp_ps(a, inf, _CMP_LT_OQ)));
    }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(in + i), magnitude_mask);
    m[0] = _mm256_max_ps(m[0], _mm256_and_ps(a, _mm256_cmp_ps(a, inf, _CMP_LT_OQ)));
  }
  const __m256 m8 = _mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3]));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  float result = _mm_cvtss_f32(m4);
  for (; i < n; ++i) {
    const float a = in[i] < 0 ? -in[i] : in[i];
    if (a > result && a != INFINITY) result = a;  // NaN compares false
  }
  return result;
}

// copysign(magnitude, s) per lane (magnitude positive).
LPSIM_AVX2 __m256d with_sign_of(__m256d s, double magnitude) {
  return _mm256_or_pd(_mm256_and_pd(s, _mm256_set1_pd(-0.0)), _mm256_set1_pd(magnitude));
}

// round_scaled() on four lanes; `random` holds the lanes' random numbers (stochastic).
template <Rounding kMode>
LPSIM_AVX2 __m256d round_lanes(__m256d s, __m256d random, __m256d random_range) {
  constexpr int kExact = _MM_FROUND_NO_EXC;
  if constexpr (kMode == Rounding::nearest_even)
    return _mm256_round_pd(s, _MM_FROUND_TO_NEAREST_INT | kExact);
  else if constexpr (kMode == Rounding::toward_zero)
    return _mm256_round_pd(s, _MM_FROUND_TO_ZERO | kExact);
  else if constexpr (kMode == Rounding::up)
    return _mm256_round_pd(s, _MM_FROUND_TO_POS_INF | kExact);
  else if constexpr (kMode == Rounding::down)
    return _mm256_round_pd(s, _MM_FROUND_TO_NEG_INF | kExact);
  else if constexpr (kMode == Rounding::nearest_away) {
    // s has at most 24 significant bits, so s + copysign(0.5, s) is exact unless |s| < 2^-29,
    // where it stays below 1 in magnitude: truncating it rounds half away from zero.
    return _mm256_round_pd(_mm256_add_pd(s, with_sign_of(s, 0.5)), _MM_FROUND_TO_ZERO | kExact);
  } else {
    const __m256d t = _mm256_round_pd(s, _MM_FROUND_TO_ZERO | kExact);
    __m256d away;
    if constexpr (kMode == Rounding::odd) {
      const __m256d half_t =
          _mm256_round_pd(_mm256_mul_pd(t, _mm256_set1_pd(0.5)), _MM_FROUND_TO_ZERO | kExact);
      const __m256d even = _mm256_cmp_pd(_mm256_add_pd(half_t, half_t), t, _CMP_EQ_OQ);
      away = _mm256_and_pd(_mm256_cmp_pd(t, s, _CMP_NEQ_OQ), even);
    } else {  // stochastic
      const __m256d magnitude_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffff));
      const __m256d fraction = _mm256_and_pd(_mm256_sub_pd(s, t), magnitude_mask);
      const __m256d fraction_bits =
          _mm256_round_pd(_mm256_mul_pd(fraction, random_range), _MM_FROUND_TO_NEG_INF | kExact);
      away = _mm256_cmp_pd(_mm256_add_pd(fraction_bits, random), random_range, _CMP_GE_OQ);
    }
    return _mm256_add_pd(t, _mm256_and_pd(away, with_sign_of(s, 1.0)));
  }
}

// Four uint32 random numbers as doubles.
LPSIM_AVX2 __m256d random_lanes(const std::uint32_t* r) {
  const __m128i biased = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)),
                                       _mm_set1_epi32(INT32_MIN));
  return _mm256_add_pd(_mm256_cvtepi32_pd(biased), _mm256_set1_pd(2147483648.0));
}

struct LaneCounts {
  std::uint64_t inexact = 0, zero = 0, flushed_to_zero = 0;
};

// Elements [0, n) of one tile, 8 at a time; returns how many it did (a multiple of 8). Groups
// with a NaN, an infinity or a result out of range go through quantize_one().
template <Rounding kMode>
LPSIM_AVX2 std::size_t quantize_tile_avx2(const Plan& q, const float* in, std::size_t n,
                                          const std::uint32_t* random, std::int16_t* codes,
                                          float* values, LaneCounts& lanes, ConversionCounts& c) {
  const __m256 magnitude_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 inf = _mm256_set1_ps(INFINITY);
  const __m256d to_code = _mm256_set1_pd(q.to_code), to_value = _mm256_set1_pd(q.to_value);
  const __m256d min_k = _mm256_set1_pd(q.min_k), max_k = _mm256_set1_pd(q.max_k);
  const __m256d random_range = _mm256_set1_pd(q.random_range);
  const __m256d zero = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    const __m256d s0 = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)), to_code);
    const __m256d s1 = _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)), to_code);
    __m256d r0 = zero, r1 = zero;
    if constexpr (kMode == Rounding::stochastic) {
      r0 = random_lanes(random + i);
      r1 = random_lanes(random + i + 4);
    }
    const __m256d k0 = round_lanes<kMode>(s0, r0, random_range);
    const __m256d k1 = round_lanes<kMode>(s1, r1, random_range);
    const __m256d outside0 =
        _mm256_or_pd(_mm256_cmp_pd(k0, min_k, _CMP_LT_OQ), _mm256_cmp_pd(k0, max_k, _CMP_GT_OQ));
    const __m256d outside1 =
        _mm256_or_pd(_mm256_cmp_pd(k1, min_k, _CMP_LT_OQ), _mm256_cmp_pd(k1, max_k, _CMP_GT_OQ));
    const int special =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(x, magnitude_mask), inf, _CMP_NLT_UQ)) |
        _mm256_movemask_pd(_mm256_or_pd(outside0, outside1));
    if (special) {
      for (std::size_t j = i; j < i + 8; ++j)
        quantize_one(q, in[j], random ? random[j] : 0, codes ? codes + j : nullptr,
                     values ? values + j : nullptr, c);
      continue;
    }
    const unsigned inexact = unsigned(_mm256_movemask_pd(_mm256_cmp_pd(k0, s0, _CMP_NEQ_OQ))) |
                             unsigned(_mm256_movemask_pd(_mm256_cmp_pd(k1, s1, _CMP_NEQ_OQ))) << 4;
    const unsigned zero_k = unsigned(_mm256_movemask_pd(_mm256_cmp_pd(k0, zero, _CMP_EQ_OQ))) |
                            unsigned(_mm256_movemask_pd(_mm256_cmp_pd(k1, zero, _CMP_EQ_OQ))) << 4;
    const __m256 zero_x_lanes = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ);
    const unsigned zero_x = unsigned(_mm256_movemask_ps(zero_x_lanes));
    lanes.inexact += unsigned(__builtin_popcount(inexact));
    lanes.zero += unsigned(__builtin_popcount(zero_k));
    lanes.flushed_to_zero += unsigned(__builtin_popcount(zero_k & ~zero_x));
    if (codes)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i),
                       _mm_packs_epi32(_mm256_cvtpd_epi32(k0), _mm256_cvtpd_epi32(k1)));
    if (values) {
      // + 0: a zero result is +0; nearest-even keeps a zero input's sign (see quantize_one)
      const __m128 v0 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_add_pd(k0, zero), to_value));
      const __m128 v1 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_add_pd(k1, zero), to_value));
      __m256 v = _mm256_set_m128(v1, v0);
      if constexpr (kMode == Rounding::nearest_even) v = _mm256_blendv_ps(v, x, zero_x_lanes);
      _mm256_storeu_ps(values + i, v);
    }
  }
  return i;
}

template <Rounding kMode>
LPSIM_AVX2 void quantize_avx2(const Plan& q, const RoundingSpec& rounding,
                              std::span<const float> in, std::int16_t* codes, float* values,
                              std::uint64_t first_index, ConversionCounts& c) {
  std::array<std::uint32_t, kTile> random{};
  LaneCounts lanes;
  for (std::size_t begin = 0; begin < in.size(); begin += kTile) {
    const std::size_t n = std::min(kTile, in.size() - begin);
    if constexpr (kMode == Rounding::stochastic)
      stochastic_randoms(rounding, first_index + begin, std::span(random).first(n));
    const std::size_t done = quantize_tile_avx2<kMode>(
        q, in.data() + begin, n, kMode == Rounding::stochastic ? random.data() : nullptr,
        codes ? codes + begin : nullptr, values ? values + begin : nullptr, lanes, c);
    for (std::size_t i = done; i < n; ++i)
      quantize_one(q, in[begin + i], random[i], codes ? codes + begin + i : nullptr,
                   values ? values + begin + i : nullptr, c);
  }
  c.inexact += lanes.inexact;
  c.zero += lanes.zero;
  c.flushed_to_zero += lanes.flushed_to_zero;
}

#undef LPSIM_AVX2

}  // namespace

float finite_max_abs(std::span<const float> in, std::optional<Isa> isa) {
  if (vector_path(isa)) return finite_max_abs_avx2(in.data(), in.size());
  float m = 0;
  for (float v : in) {
    const float a = std::fabs(v);
    if (a > m && a != INFINITY) m = a;  // NaN compares false
  }
  return m;
}

bool int16_quantizable(const FixedFormat& element, const ConvertPolicy& p) {
  return element.min_int() >= INT16_MIN && element.max_int() <= INT16_MAX &&
         p.overflow != Overflow::wrap && p.rounding.mode != Rounding::niti_psr &&
         validate(p.rounding).empty();
}

ConversionCounts quantize_int16(const FixedFormat& element, int exponent, std::span<const float> in,
                                std::span<std::int16_t> codes, std::span<float> dequantized,
                                const ConvertPolicy& p, std::uint64_t first_index,
                                std::optional<Isa> isa) {
  if (!int16_quantizable(element, p))
    throw std::invalid_argument("quantize_int16: the element or policy needs quantize_block");
  if ((!codes.empty() && codes.size() != in.size()) ||
      (!dequantized.empty() && dequantized.size() != in.size()))
    throw std::invalid_argument("quantize_int16: output sizes differ from the input's");
  // Keeps every scale and scaled value a normal double, so the scaling stays exact.
  const int shift = element.frac_bits - exponent;
  if (shift < -900 || shift > 900)
    throw std::invalid_argument("quantize_int16: exponent " + std::to_string(exponent) +
                                " out of range");
  const Plan q{.mode = p.rounding.mode,
               .to_code = std::ldexp(1.0, shift),
               .to_value = std::ldexp(1.0, -shift),
               .min_k = double(element.min_int()),
               .max_k = double(element.max_int()),
               .random_range = std::ldexp(1.0, p.rounding.random_bits)};
  std::int16_t* code_out = codes.empty() ? nullptr : codes.data();
  float* value_out = dequantized.empty() ? nullptr : dequantized.data();
  ConversionCounts c;
  if (!vector_path(isa)) {
    quantize_scalar(q, p.rounding, in, code_out, value_out, first_index, c);
    return c;
  }
  // One instantiation per rounding mode, in the order of the Rounding enumeration.
  using Quantize = void (*)(const Plan&, const RoundingSpec&, std::span<const float>, std::int16_t*,
                            float*, std::uint64_t, ConversionCounts&);
  constexpr Quantize kByMode[] = {
      quantize_avx2<Rounding::nearest_even>, quantize_avx2<Rounding::nearest_away>,
      quantize_avx2<Rounding::toward_zero>,  quantize_avx2<Rounding::up>,
      quantize_avx2<Rounding::down>,         quantize_avx2<Rounding::odd>,
      quantize_avx2<Rounding::stochastic>};
  static_assert(std::size(kByMode) == std::size_t(Rounding::niti_psr));  // refused above
  kByMode[int(q.mode)](q, p.rounding, in, code_out, value_out, first_index, c);
  return c;
}

}  // namespace lpsim::fast
