// NITI's integer products: int8 x int8 summed in an int32 accumulator under a policy
// (formats/accumulator.hpp). NITI's code (SCHEMES.md §2 "Accumulators"):
//   convolutions (forward, backward-data, weight gradient): CUTLASS implicit GEMM, NHWC with the
//     channels padded to 16, mma m8n8k16 with OpMultiplyAddSaturate (each instruction adds 16
//     exact products to the int32 accumulator, then clamps), then the LinearCombinationClamp
//     epilogue (int32 -> fp32 -> int32): acc:int32:sat:group=16:fp32-epilogue
//   fully connected: cuBLAS cublasGemmEx int8 -> int32, overflow undocumented: acc:int32:wrap
//
// Two paths give the same bits. Where no partial sum of an output can leave the accumulator's range
// (the sum of |products| is bounded below 2^(bits-1) by row and column norms), wrapping,
// saturating and exact accumulation agree in any order: the output comes from fast/'s int8 GEMM
// kernels (int32 wrap, exact there). Every other output is recomputed product by product with
// formats' dot() in NITI's order -- convolutions: taps outer, channels inner, each tap's channels
// padded with zeros to a multiple of 16 (backward-data: the taps of the flipped kernel; weight
// gradient: the output positions, with the batch as channels), fully connected: k ascending --
// counting saturations and wraps. The fp32 epilogue, when the policy has it, then passes every
// output through fp32 (exact below 2^24).
//
// Results never depend on the thread count: the fast path is exact, the exact path is sequential
// per output.
#pragma once
#include <cstdint>
#include <string>

#include "formats/accumulator.hpp"
#include "sim/nn/engine.hpp"

namespace lpsim::schemes::niti {

// "" when `spec` is a policy these products implement (bounded, at most 32 bits, unflushed).
std::string unsupported(const AccumulatorSpec& spec);

// What the accumulators did in one product.
struct AccumulationStats {
  std::int64_t saturations = 0, wraps = 0;  // over the outputs computed exactly
  std::int64_t exact_outputs = 0;           // outputs whose bound reached the accumulator's range
  std::int64_t epilogue_rounded = 0;        // outputs the fp32 epilogue changed
};

// Activations N x C x H x W, weights K x C x R x S, all row-major int8; outputs int32 (N x K x OH x
// OW, N x C x H x W, K x C x R x S).
void conv_forward(const AccumulatorSpec& spec, const nn::ConvGeometry& g, const std::int8_t* x,
                  const std::int8_t* w, std::int32_t* y, nn::ThreadPool& pool,
                  AccumulationStats& stats);
void conv_backward_data(const AccumulatorSpec& spec, const nn::ConvGeometry& g,
                        const std::int8_t* dy, const std::int8_t* w, std::int32_t* dx,
                        nn::ThreadPool& pool, AccumulationStats& stats);
void conv_weight_grad(const AccumulatorSpec& spec, const nn::ConvGeometry& g, const std::int8_t* x,
                      const std::int8_t* dy, std::int32_t* dw, nn::ThreadPool& pool,
                      AccumulationStats& stats);

// c (m x n) = a (m x k) b (k x n), row-major.
void gemm(const AccumulatorSpec& spec, int m, int n, int k, const std::int8_t* a,
          const std::int8_t* b, std::int32_t* c, nn::ThreadPool& pool, AccumulationStats& stats);

}  // namespace lpsim::schemes::niti
