// Flushing kernels (Das' chains) store each output's first chain rather than adding it to what
// the output held, so no pass zeroes the fp32 output first: the results must not depend on it.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <vector>

#include "fast/verify.hpp"

namespace lpsim::fast {
namespace {

// A flushing GEMM writes its fp32 outputs (the first chain is stored, not added): whatever the
// output held before, NaN included, the result is the one verify checks on zeroed outputs.
TEST(FlushingKernels, OverwriteTheirOutput) {
  for (const Kernel& kernel : kernels()) {
    if (kernel.unavailable || !kernel.available() || kernel.acc.flush_every == 0) continue;
    const Tiling& t = kernel.tiling;
    const int long_chain = t.kc + 32 * t.k_step;  // chains that span k-blocks
    for (const auto& [m, n, k, chain] :
         {std::array{t.mr + 1, t.nr + 1, 3, kernel.acc.flush_every},
          std::array{2 * t.mr, t.nr - 1, 301, t.k_step},
          std::array{t.mr - 1, 2 * t.nr + 1, 2 * long_chain + 7, long_chain}}) {
      AccumulatorSpec acc = kernel.acc;
      acc.flush_every = chain;
      const std::vector<std::int32_t> a32 =
          make_fill(Fill::full, kernel.input, std::size_t(m) * k, 1, 0);
      const std::vector<std::int32_t> b32 =
          make_fill(Fill::full, kernel.input, std::size_t(k) * n, 1, 1);
      const std::vector<std::int16_t> a(a32.begin(), a32.end()), b(b32.begin(), b32.end());
      std::vector<float> zeroed(std::size_t(m) * n, 0.0f), stale(std::size_t(m) * n, NAN);
      for (std::vector<float>* out : {&zeroed, &stale})
        kernel.run(contiguous_gemm(kernel.input, m, n, k, a.data(), b.data(), nullptr, out->data(),
                                   acc, -28));
      for (std::size_t i = 0; i < zeroed.size(); ++i)
        ASSERT_EQ(std::bit_cast<std::uint32_t>(stale[i]), std::bit_cast<std::uint32_t>(zeroed[i]))
            << kernel.name << " " << m << "x" << n << "x" << k << " chain " << chain << " output "
            << i;
    }
  }
}

}  // namespace
}  // namespace lpsim::fast
