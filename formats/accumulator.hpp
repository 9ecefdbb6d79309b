// Accumulator policies for integer dot products (docs/semantics.md §9).
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace lpsim {

enum class AccOverflow : std::uint8_t { wrap, saturate };

struct AccumulatorSpec {
  bool exact = false;  // unbounded: every other field ignored
  int bits = 32;       // 2..64
  AccOverflow overflow = AccOverflow::wrap;
  int group = 1;        // products summed exactly before each add (vpdpwssds: 2)
  int flush_every = 0;  // products per chain before converting to fp32; 0 = never
  // The final accumulator passes through fp32 (nearest-even) and back to intN, saturating: the
  // int32 -> float -> int32 epilogue of CUTLASS's LinearCombinationClamp that NITI's convolutions
  // use (exact only below 2^24 in magnitude). Not with flushing.
  bool fp32_epilogue = false;

  friend bool operator==(const AccumulatorSpec&, const AccumulatorSpec&) = default;
};

std::string validate(const AccumulatorSpec& a);

// What a dot product did: the integer accumulator (when not flushed), the fp32 total (always),
// and how often the accumulator wrapped or saturated.
struct DotResult {
  std::int64_t integer = 0;  // final accumulator (0 once flushed; the exact sum mod 2^64 when exact)
  float total = 0.0f;        // sum of chains in fp32 (equals float(integer) * scale when unflushed)
  std::uint64_t wraps = 0;
  std::uint64_t saturations = 0;
};

// sum_i a[i] * b[i] under the policy; flushed chains are scaled by 2^scale_exp.
DotResult dot(const AccumulatorSpec& spec, std::span<const std::int32_t> a,
              std::span<const std::int32_t> b, int scale_exp = 0);

}  // namespace lpsim
