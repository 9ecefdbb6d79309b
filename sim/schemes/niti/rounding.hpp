// NITI's integer rounding functions (SCHEMES.md §2, niti/ti_torch.py), on integers only.
//
// Each is written as the code computes it, with `//` for the division by 2^s: PyTorch 1.7 (NITI's
// Dockerfile) truncates toward zero, PyTorch >= 1.13 floors (SCHEMES.md ambiguity 4). Under trunc:
//   RoundShift(x, s)  = round half away from zero of x / 2^s (formats' nearest-away)
//   PstoShift(x, s)   = NITI's pseudo-stochastic rounding (formats' niti-psr): away from zero iff
//                       the upper ceil(s/2) dropped bits exceed the lower floor(s/2) (doubled
//                       when s is odd)
//   StoShift(x, s, u) = away from zero iff the s dropped bits exceed u, a uniform s-bit number
// Under floor, RoundShift rounds half up and PstoShift/StoShift add sign(x) to floor(x / 2^s) for
// negative x (biased). The functions return the rounded integer; NITI then applies int8_clip
// (clip_int8 below).
#pragma once
#include <cstdint>

namespace lpsim::schemes::niti {

enum class Division : std::uint8_t { trunc, floor };

// x // d for d > 0.
constexpr std::int64_t divide(std::int64_t x, std::int64_t d, Division division) {
  const std::int64_t q = x / d;  // C++ truncates
  return division == Division::floor && x % d != 0 && x < 0 ? q - 1 : q;
}

// The shifting functions compute in T: std::int64_t for any s <= 62, or std::int32_t for s <= 30
// (every intermediate fits; 32-bit lanes let the element loops vectorise).

// x // 2^s with shifts: divide(x, 2^s, division) without the division instruction.
template <class T>
constexpr T shift_divide(T x, int s, Division division) {
  const T floor = x >> s;  // arithmetic shift: floor
  return division == Division::trunc && x < 0 && (x & ((T{1} << s) - 1)) != 0 ? floor + 1 : floor;
}

template <class T>
constexpr T sign(T x) {
  return T((x > 0) - (x < 0));
}

// The statements of ti_torch.py, one for one (inline: they run once per tensor element).
template <class T>
constexpr T round_shift(T x, int s, Division division) {  // s >= 1
  const T round_temp = shift_divide(x, s, division);
  const T prob = x - round_temp * (T{1} << s);
  const T round_decision = shift_divide(prob, s - 1, division);
  return round_temp + round_decision;
}

template <class T>
constexpr T psto_shift(T x, int s, Division division) {  // s >= 0
  const T round_temp = shift_divide(x, s, division);
  const T diff = x - round_temp * (T{1} << s);
  const T prob = diff < 0 ? T(-diff) : diff;
  const int half = s / 2;
  const T quantized_prob = shift_divide(prob, half, division);
  T pseudo_rand_num = prob - quantized_prob * (T{1} << half);
  if (s % 2 == 1) pseudo_rand_num *= 2;  // the same width as quantized_prob
  const T round_decision = quantized_prob <= pseudo_rand_num ? 0 : 1;
  return round_temp + round_decision * sign(x);
}

// `random` in [0, 2^s).
template <class T>
constexpr T sto_shift(T x, int s, std::uint32_t random, Division division) {
  const T round_temp = shift_divide(x, s, division);
  const T diff = x - round_temp * (T{1} << s);
  const T prob = diff < 0 ? T(-diff) : diff;
  const T round_decision = prob <= T(random) ? 0 : 1;
  return round_temp + round_decision * sign(x);
}

// int8_clip: clamp to [-127, 127].
template <class T>
constexpr std::int8_t clip_int8(T x) {
  return std::int8_t(x > 127 ? 127 : x < -127 ? -127 : x);
}
// tensor.type(torch.int8): the low byte, two's complement (128 -> -128).
constexpr std::int8_t wrap_int8(std::int64_t x) {
  return std::int8_t(std::uint8_t(std::uint64_t(x)));
}

// RangeEstimate's magnitude of one int32: torch.abs wraps INT32_MIN to itself, a negative number
// that never wins the maximum, so it counts as 0 here.
constexpr std::uint32_t range_magnitude(std::int32_t x) {
  return x == INT32_MIN ? 0u : std::uint32_t(x < 0 ? -x : x);
}
// RangeEstimate: b = ceil(log2(float32(max |x|))), 0 when the maximum is 0. The maximum is first
// rounded to fp32 (nearest-even, 24 significant bits), so 2^k + 1 for k >= 24 gives k, not k + 1;
// log2 is taken as exact (CUDA's log2f, 1 ulp, can also give k for maxima within a relative 2^-20
// above 2^k, k >= 21: not modelled).
int range_bits(std::uint32_t max_magnitude);

}  // namespace lpsim::schemes::niti
