// lpsim's CUDA int8 GEMMs (dp4a and mma.sync m16n8k32) and their host emulation, behind the same
// GemmCall as the CPU kernels (fast/gemm.hpp). The emulation runs anywhere; the device kernels
// need a CUDA build and a device (dp4a: sm_75+ as built for sm_75/80/90, the instruction itself
// is sm_61+; mma: sm_80+).
//
// What each computes, exactly as ref::gemm (reference/gemm.hpp) under its AccumulatorSpec:
//   dp4a wrap  int32 wrap (any group)        dp4a sat  int32 saturate, group 4
//   mma  wrap  int32 wrap (any group)        mma  sat  int32 saturate, group 32 (.satfinite)
// each optionally with fp32_epilogue (NITI's LinearCombinationClamp, niti_epilogue()).
#pragma once
#include <string>

#include "fast/cuda/device.hpp"
#include "fast/cuda/int8_warp.hpp"
#include "fast/gemm.hpp"

namespace lpsim::fast::gpu {

// Products each instruction sums exactly before its one wrap or clamp: 4 (dp4a), 32 (mma).
int products_per_step(Int8Kernel kernel);
// The saturating policy the kernel computes: int32, saturate, group = products_per_step.
AccumulatorSpec saturating_spec(Int8Kernel kernel);
// "" when the kernel computes `call` exactly (int8 operands, int32 accumulator without flushing,
// wrap, or saturate in the kernel's own groups) and the call is well formed; else why not.
std::string unsupported(Int8Kernel kernel, const GemmCall& call);

// C = the call's GEMM; with call.acc.fp32_epilogue each result then passes through
// niti_epilogue() (fp32 and clamp, int8_warp.hpp). Both throw std::invalid_argument when
// unsupported().
void emulate_gemm(Int8Kernel kernel, const GemmCall& call);
// Copies the operands to the device, runs the kernel, copies C back. Throws std::runtime_error
// when no device can run it (device_unavailable, fast/cuda/device.hpp).
void run_gemm_on_device(Int8Kernel kernel, const GemmCall& call);

// Registry entries (fast/registry.hpp: void(const GemmCall&)).
void gemm_int8_dp4a(const GemmCall& call);
void gemm_int8_mma(const GemmCall& call);
void gemm_int8_dp4a_emulated(const GemmCall& call);
void gemm_int8_mma_emulated(const GemmCall& call);

namespace detail {
Int8Gemm to_int8_gemm(const GemmCall& call);
}  // namespace detail

}  // namespace lpsim::fast::gpu
