// GEMM cases for the CUDA int8 kernels, shared by the emulation tests (tests/cuda) and the device
// tests (tests/cuda_gpu): operands, the expectation from reference/gemm, and the comparison.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fast/cuda/cuda_gemm.hpp"
#include "fast/verify.hpp"
#include "reference/gemm.hpp"

namespace lpsim::fast::gpu::testing {

// How the operands are made: from the fill; climb_then_fall: A all -128 and B -128 until
// p = flip, then 127 (+16384 per product, then -16256: the accumulator climbs past INT32_MAX and
// comes back, turning in the middle of a group); all_minus_127: 16129 per product, so sums of an
// odd number of products are odd.
enum class Pattern : std::uint8_t { fill, climb_then_fall, all_minus_127 };

struct GemmCase {
  Int8Kernel kernel = Int8Kernel::mma;
  bool saturate = false;
  int m = 1, n = 1, k = 1;
  Fill fill = Fill::small;
  Pattern pattern = Pattern::fill;
  bool niti_epilogue = false;
  std::uint64_t seed = 1;
};

inline std::string describe(const GemmCase& c) {
  return std::string(c.kernel == Int8Kernel::dp4a ? "dp4a" : "mma") +
         (c.saturate ? "-sat " : "-wrap ") + std::to_string(c.m) + "x" + std::to_string(c.n) +
         "x" + std::to_string(c.k) + " " +
         (c.pattern == Pattern::fill              ? std::string(to_string(c.fill))
          : c.pattern == Pattern::climb_then_fall ? "climb-then-fall"
                                                  : "all-minus-127") +
         (c.niti_epilogue ? " niti-epilogue" : "") + " seed " + std::to_string(c.seed);
}

// The policy a case checks: the kernel's saturating groups, or plain wrap; NITI's epilogue.
inline AccumulatorSpec case_spec(const GemmCase& c) {
  AccumulatorSpec spec = c.saturate ? saturating_spec(c.kernel) : AccumulatorSpec{};
  spec.fp32_epilogue = c.niti_epilogue;
  return spec;
}

struct Operands {
  std::vector<std::int32_t> a, b;  // row-major m x k and k x n
};

inline Operands make_operands(const GemmCase& c) {
  const std::size_t a_size = std::size_t(c.m) * c.k, b_size = std::size_t(c.k) * c.n;
  if (c.pattern == Pattern::fill)
    return {make_fill(c.fill, ElementType::int8, a_size, c.seed, 0),
            make_fill(c.fill, ElementType::int8, b_size, c.seed, 1)};
  if (c.pattern == Pattern::all_minus_127)
    return {std::vector<std::int32_t>(a_size, -127), std::vector<std::int32_t>(b_size, -127)};
  Operands o{std::vector<std::int32_t>(a_size, -128), std::vector<std::int32_t>(b_size)};
  const int flip = c.k * 7 / 10 + 7;  // 7 past a multiple of 32 when k is a multiple of 320
  for (int p = 0; p < c.k; ++p)
    for (int j = 0; j < c.n; ++j) o.b[std::size_t(p) * c.n + j] = p < flip ? -128 : 127;
  return o;
}

// ref::gemm's outputs as the kernel must write them.
inline std::vector<std::int32_t> expected_outputs(const GemmCase& c, const Operands& o,
                                                  const AccumulatorSpec& spec) {
  const ref::GemmReference r = ref::gemm(spec, c.m, c.n, c.k, o.a, o.b);
  return {r.integer.begin(), r.integer.end()};
}

inline double nonzero_share(const std::vector<std::int32_t>& v) {
  std::size_t nonzero = 0;
  for (std::int32_t x : v) nonzero += x != 0;
  return v.empty() ? 0.0 : double(nonzero) / double(v.size());
}

using Runner = std::function<void(Int8Kernel, const GemmCall&)>;

// Runs the case with padded leading dimensions (lda = k+5, ldb = n+3, ldc = n+2) and returns the
// m x n outputs; a write into C's padding is reported as `padding_written`.
struct RunResult {
  std::vector<std::int32_t> outputs;
  bool padding_written = false;
};

inline RunResult run_case(const GemmCase& c, const Operands& o, const Runner& run) {
  const int lda = c.k + 5, ldb = c.n + 3, ldc = c.n + 2;
  constexpr std::int32_t kSentinel = 0x5EED5EED;
  std::vector<std::int8_t> a(std::size_t(c.m) * lda, 99), b(std::size_t(c.k) * ldb, -99);
  for (int i = 0; i < c.m; ++i)
    for (int p = 0; p < c.k; ++p) a[std::size_t(i) * lda + p] = std::int8_t(o.a[std::size_t(i) * c.k + p]);
  for (int p = 0; p < c.k; ++p)
    for (int j = 0; j < c.n; ++j) b[std::size_t(p) * ldb + j] = std::int8_t(o.b[std::size_t(p) * c.n + j]);
  std::vector<std::int32_t> out(std::size_t(c.m) * ldc, kSentinel);
  AccumulatorSpec spec = case_spec(c);
  const GemmCall call{.input = ElementType::int8, .m = c.m, .n = c.n, .k = c.k,
                      .a = a.data(), .lda = lda, .b = b.data(), .ldb = ldb,
                      .c = out.data(), .ldc = ldc, .acc = spec};
  run(c.kernel, call);
  RunResult r;
  for (int i = 0; i < c.m; ++i)
    for (int j = 0; j < ldc; ++j) {
      const std::int32_t v = out[std::size_t(i) * ldc + j];
      if (j < c.n)
        r.outputs.push_back(v);
      else
        r.padding_written |= v != kSentinel;
    }
  return r;
}

// "" when equal, else the first mismatch.
inline std::string first_mismatch(const GemmCase& c, const std::vector<std::int32_t>& got,
                                  const std::vector<std::int32_t>& expected) {
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (got[i] != expected[i])
      return describe(c) + ": C[" + std::to_string(i / c.n) + "][" + std::to_string(i % c.n) +
             "] = " + std::to_string(got[i]) + ", reference " + std::to_string(expected[i]);
  return {};
}

// The standard cases: shapes on and around the 16x8x32 mma tile, the 32x32 warp tile and the
// 4-wide dp4a step, every fill, both kernels, wrap and saturate.
inline std::vector<GemmCase> standard_cases() {
  struct Shape {
    int m, n, k;
  };
  const Shape shapes[] = {{1, 1, 1},    {16, 8, 32},  {15, 7, 31},  {17, 9, 33},
                          {32, 32, 64}, {33, 31, 65}, {47, 70, 100}};
  std::vector<GemmCase> cases;
  for (Int8Kernel kernel : {Int8Kernel::dp4a, Int8Kernel::mma})
    for (bool saturate : {false, true})
      for (const Shape& s : shapes)
        for (Fill fill : {Fill::small, Fill::full, Fill::min, Fill::extreme})
          cases.push_back({kernel, saturate, s.m, s.n, s.k, fill});
  return cases;
}

// Long dots: all -128 (16384 per product) overflows int32 from k = 131072 on; climb-then-fall
// crosses INT32_MAX and comes back down.
inline std::vector<GemmCase> overflow_cases() {
  std::vector<GemmCase> cases;
  for (Int8Kernel kernel : {Int8Kernel::dp4a, Int8Kernel::mma})
    for (bool saturate : {false, true}) {
      cases.push_back({kernel, saturate, 2, 3, 140000, Fill::min});
      cases.push_back({kernel, saturate, 2, 3, 200000, Fill::min, Pattern::climb_then_fall});
    }
  return cases;
}

}  // namespace lpsim::fast::gpu::testing
