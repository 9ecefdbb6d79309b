// fast/conv.cpp lowers each pass to one of two GEMMs (per image, filters x pixels; or over the
// batch, pixels x filters), whichever suits the kernel's microtiles better. The standard verify
// shapes mostly take the first; these shapes are chosen so that each pass takes each lowering on
// the AVX2 (6 x 16) and scalar (4 x 8) tiles, dense layers included, and the CPU kernels this CPU
// runs must match reference/gemm bit for bit on them under the policies that depend on the
// product order.
#include <gtest/gtest.h>

#include <string>

#include "fast/verify.hpp"

namespace lpsim::fast {
namespace {

// What each shape is for (AVX2 tile; "batch": pixels x filters, "image": filters x pixels).
constexpr const char* kShapes[] = {
    "2x3x3x3:16x3x3:s1:p1",   // forward batch (16 filters, 9 pixels); backward-data image
    "5x40x1x1:24x1x1:s1:p0",  // a dense layer: every pass batch, with no lowering at all
    "2x1x6x6:6x5x5:s1:p2",    // lenet5 conv1-like: forward image, weight-gradient batch
    "2x16x3x3:4x3x3:s1:p1",   // backward-data batch (16 channels, 9 pixels)
    "2x16x5x5:4x3x3:s2:p1",   // backward-data batch with stride gaps and padding
    "2x16x3x3:16x1x1:s1:p0",  // a pointwise convolution: forward and backward-data batch
    "3x3x5x5:16x3x3:s2:p1",   // forward batch, strided and padded
    "2x2x7x7:6x3x3:s2:p1",    // weight-gradient batch, strided and padded
    "2x3x4x4:16x3x2:s1:p1",   // a non-square kernel, forward batch
    "2x4x3x3:2x3x3:s2:p3",    // padding wider than the kernel reaches: outputs that see only 0
};

TEST(ConvLowerings, EveryCpuKernelMatchesTheReferenceOnBothLowerings) {
  Verifier verifier;
  int cases = 0, passed = 0;
  for (const Kernel& kernel : kernels()) {
    if (kernel.unavailable || !kernel.available()) continue;  // CPU kernels this CPU runs
    const bool flushing = kernel.acc.flush_every > 0;
    // The policies that see the k order: saturating pairs, and chains (one per k-step); int8
    // kernels only wrap.
    const bool saturating = kernel.acc.overflow == AccOverflow::saturate;
    if (kernel.input == ElementType::int16 && saturating == flushing) continue;
    for (const char* shape : kShapes)
      for (Operation op :
           {Operation::conv_forward, Operation::conv_backward_data, Operation::conv_weight_grad})
        for (Fill fill : {Fill::small, Fill::extreme}) {
          VerifyCase c;
          c.kernel = kernel.name;
          c.op = op;
          c.conv = parse_conv2d_shape(shape);
          c.fill = fill;
          c.acc = kernel.acc;
          if (flushing) c.acc.flush_every = kernel.tiling.k_step;  // a chain per k-step
          c.scale_exp = flushing ? -28 : 0;
          const VerifyResult r = verifier.run(c);
          ASSERT_NE(r.verdict, Verdict::fail) << repro_command(c) << ": " << r.detail;
          ++cases;
          passed += r.verdict == Verdict::pass;
        }
  }
  EXPECT_GE(passed, cases * 9 / 10) << "too many cases whose outputs are mostly zero";
}

// With a wrapping accumulator whose chains hold whole filters (Das' chains of 256 channels), and
// fewer channels than filters, backward-data sums each chain's partial products per input pixel
// (col2im): chains of one filter (when that is an even number of products), of two, and of all
// of them, strided and padded.
TEST(ConvLowerings, BackwardDataByChainsOfWholeFilters) {
  Verifier verifier;
  for (const Kernel& kernel : kernels()) {
    if (kernel.unavailable || !kernel.available() || kernel.acc.overflow != AccOverflow::wrap)
      continue;
    const bool flushing = kernel.acc.flush_every > 0;
    for (const char* shape :
         {"2x3x6x5:7x3x3:s1:p1", "2x2x7x7:5x3x2:s2:p1", "3x4x2x2:6x1x1:s1:p0"}) {
      const Conv2dShape conv = parse_conv2d_shape(shape);
      const int taps = conv.kernel_h * conv.kernel_w;
      for (int chain_filters : {1, 2, 256}) {
        // chains are whole k-steps (2 products)
        if ((!flushing && chain_filters != 256) || chain_filters * taps % 2 != 0) continue;
        for (Fill fill : {Fill::small, Fill::full, Fill::extreme}) {
          VerifyCase c;
          c.kernel = kernel.name;
          c.op = Operation::conv_backward_data;
          c.conv = conv;
          c.fill = fill;
          c.acc = kernel.acc;
          if (flushing) c.acc.flush_every = chain_filters * taps;
          c.scale_exp = flushing ? -28 : 0;
          const VerifyResult r = verifier.run(c);
          EXPECT_EQ(r.verdict, Verdict::pass) << repro_command(c) << ": " << r.detail;
        }
      }
    }
  }
}

}  // namespace
}  // namespace lpsim::fast
