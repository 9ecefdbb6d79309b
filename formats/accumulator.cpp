#include "formats/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lpsim {

namespace {
__extension__ typedef __int128 int128;
}

std::string validate(const AccumulatorSpec& a) {
  if (a.exact) return {};
  if (a.bits < 2 || a.bits > 64) return std::to_string(a.bits) + " accumulator bits (need 2..64)";
  if (a.group < 1 || a.group > 64) return "group " + std::to_string(a.group) + " (need 1..64)";
  if (a.flush_every < 0) return "flush interval must be >= 0";
  if (a.fp32_epilogue && a.flush_every != 0)
    return "the fp32 epilogue needs an unflushed accumulator";
  if (a.flush_every % a.group != 0)
    return "flush interval " + std::to_string(a.flush_every) + " is not a multiple of group " +
           std::to_string(a.group);
  return {};
}

DotResult dot(const AccumulatorSpec& spec, std::span<const std::int32_t> a,
              std::span<const std::int32_t> b, int scale_exp) {
  if (a.size() != b.size()) throw std::invalid_argument("dot: operand lengths differ");
  DotResult result;
  if (spec.exact) {
    int128 sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += std::int64_t{a[i]} * b[i];
    result.integer = static_cast<std::int64_t>(sum);
    // long double holds 64 significant bits: exact for |sum| < 2^64, then one rounding to fp32.
    result.total = static_cast<float>(std::ldexp(static_cast<long double>(sum), scale_exp));
    return result;
  }
  const int128 max = (int128{1} << (spec.bits - 1)) - 1;
  const int128 min = -max - 1;
  const int128 modulus = int128{1} << spec.bits;
  const float scale = std::ldexp(1.0f, scale_exp);  // a power of two: the FMA rounds once
  int128 acc = 0;
  int in_chain = 0;
  // Das et al.'s chain end: VCVTDQ2PS (nearest-even), then VFMADD into the fp32 total.
  auto flush = [&] {
    const float chain = static_cast<float>(static_cast<std::int64_t>(acc));
    result.total = std::fma(chain, scale, result.total);
    acc = 0;
    in_chain = 0;
  };
  for (std::size_t i = 0; i < a.size();) {
    const std::size_t end = std::min(a.size(), i + static_cast<std::size_t>(spec.group));
    int128 group_sum = 0;
    for (; i < end; ++i, ++in_chain) group_sum += std::int64_t{a[i]} * b[i];
    acc += group_sum;
    if (acc > max || acc < min) {
      if (spec.overflow == AccOverflow::saturate) {
        acc = std::clamp(acc, min, max);
        ++result.saturations;
      } else {
        acc = ((acc - min) % modulus + modulus) % modulus + min;
        ++result.wraps;
      }
    }
    if (spec.flush_every > 0 && in_chain == spec.flush_every) flush();
  }
  if (spec.flush_every > 0) {
    if (in_chain > 0) flush();
    return result;
  }
  result.integer = static_cast<std::int64_t>(acc);
  result.total = std::fma(static_cast<float>(result.integer), scale, 0.0f);
  if (spec.fp32_epilogue) {
    // float(2^(bits-1) - 1) may round up to 2^(bits-1): that saturates to max.
    const float through = static_cast<float>(result.integer);
    result.integer = through >= std::ldexp(1.0f, spec.bits - 1)
                         ? static_cast<std::int64_t>(max)
                         : static_cast<std::int64_t>(through);
  }
  return result;
}

}  // namespace lpsim
