// INT16/INT8 2-D convolutions (NCHW activations, KCRS weights) as GEMMs on a registry kernel.
// Each lowers its operands to a GEMM whose k order is the one reference/gemm.hpp defines, so a
// convolution is bit-exact under every accumulator the kernel accepts (saturation groups and
// flush chains included):
//   forward          y[n]  (K x OH*OW) = w (K x C*R*S)       . im2col(x[n]) (C*R*S x OH*OW)
//   backward-data    dx[n] (C x H*W)   = w^T (C x K*R*S)      . col(dy[n])   (K*R*S x H*W)
//   weight-gradient  dw^T  (C*R*S x K) = im2col(x) (C*R*S x N*OH*OW) . dy^T (N*OH*OW x K)
// or the transposed GEMM with the same dots (pixels of the whole batch as rows, or filters as rows
// for the weight gradient), whichever suits the kernel's microtile (dense layers always take the
// transposed one: their activations are its rows as they are). Backward-data under a wrapping
// accumulator whose chains hold whole filters (or none) with fewer channels than filters runs
// w^T . dy[n] and adds each input pixel's int32 partial sums (col2im): modulo 2^32 a chain's
// total does not depend on the order of its products. Outputs are int32, or fp32 for a flushing
// accumulator (for Das' chains of 256 input channels pass flush_every = 256 * R * S). Lowered
// operands live in per-thread buffers reused from call to call.
#pragma once
#include <cstdint>

#include "fast/registry.hpp"
#include "reference/gemm.hpp"

namespace lpsim::fast {

// Exactly one is set: `integer` for a non-flushing accumulator, else `fp32`.
struct ConvOutput {
  std::int32_t* integer = nullptr;
  float* fp32 = nullptr;
};

struct ConvAccumulation {
  AccumulatorSpec spec;
  int scale_exp = 0;  // each flushed chain is scaled by 2^scale_exp
};

void conv2d_forward(const Kernel& kernel, const Conv2dShape& shape, const void* x, const void* w,
                    ConvOutput y, const ConvAccumulation& acc);
void conv2d_backward_data(const Kernel& kernel, const Conv2dShape& shape, const void* dy,
                          const void* w, ConvOutput dx, const ConvAccumulation& acc);
void conv2d_weight_grad(const Kernel& kernel, const Conv2dShape& shape, const void* x,
                        const void* dy, ConvOutput dw, const ConvAccumulation& acc);

}  // namespace lpsim::fast
