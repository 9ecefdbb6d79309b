// The host side of the CUDA int8 GEMMs: which policies they compute, the host model of the
// warp-wide mma, and the emulator that runs the kernels' bodies (int8_warp.hpp) on the CPU.
#include <stdexcept>
#include <vector>

#include "fast/cuda/cuda_gemm.hpp"

namespace lpsim::fast::gpu {

namespace {

// mma.sync.aligned.m16n8k32.row.col{.satfinite}.s32.s8.s8.s32 on tile (tm, tn) of a warp: gathers
// A, B and C from the 32 lanes' registers by the PTX fragment layouts, adds each output's exact
// 32-product sum to its C, wraps or clamps once, and scatters D back to the lanes.
struct MmaModel {
  bool satfinite;
  void operator()(MmaLane* lanes, int tm, int tn) const {
    std::int32_t a[kMmaM][kMmaK], b[kMmaK][kMmaN];
    std::int64_t c[kMmaM][kMmaN];
    for (int lane = 0; lane < kWarpSize; ++lane) {
      for (int i = 0; i < kARegs * 4; ++i) {
        const Coord x = a_element(lane, i);
        a[x.row][x.col] = s8_element(lanes[lane].a[tm][i / 4], i % 4);
      }
      for (int i = 0; i < kBRegs * 4; ++i) {
        const Coord x = b_element(lane, i);
        b[x.row][x.col] = s8_element(lanes[lane].b[tn][i / 4], i % 4);
      }
      for (int i = 0; i < kCRegs; ++i) {
        const Coord x = c_element(lane, i);
        c[x.row][x.col] = lanes[lane].acc[tm][tn][i];
      }
    }
    for (int row = 0; row < kMmaM; ++row)
      for (int col = 0; col < kMmaN; ++col)
        for (int p = 0; p < kMmaK; ++p) c[row][col] += std::int64_t{a[row][p]} * b[p][col];
    for (int lane = 0; lane < kWarpSize; ++lane)
      for (int i = 0; i < kCRegs; ++i) {
        const Coord x = c_element(lane, i);
        const std::int64_t d = c[x.row][x.col];
        lanes[lane].acc[tm][tn][i] = satfinite ? saturate_int32(d) : wrap_int32(d);
      }
  }
};

void require_supported(Int8Kernel kernel, const GemmCall& call) {
  if (const std::string why = unsupported(kernel, call); !why.empty())
    throw std::invalid_argument(why);
}

std::string_view name(Int8Kernel kernel) { return kernel == Int8Kernel::dp4a ? "dp4a" : "mma"; }

}  // namespace

int products_per_step(Int8Kernel kernel) { return kernel == Int8Kernel::dp4a ? 4 : kMmaK; }

AccumulatorSpec saturating_spec(Int8Kernel kernel) {
  AccumulatorSpec spec;
  spec.overflow = AccOverflow::saturate;
  spec.group = products_per_step(kernel);
  return spec;
}

std::string unsupported(Int8Kernel kernel, const GemmCall& call) {
  const std::string who = "cuda " + std::string(name(kernel)) + ": ";
  if (call.input != ElementType::int8) return who + "takes int8 operands";
  const AccumulatorSpec& acc = call.acc;
  if (acc.exact || acc.bits != 32 || acc.flush_every != 0)
    return who + "accumulates in int32 without flushing";
  if (acc.overflow == AccOverflow::saturate && acc.group != products_per_step(kernel))
    return who + "saturates once per " + std::to_string(products_per_step(kernel)) +
           " products (group=" + std::to_string(products_per_step(kernel)) + "), not per " +
           std::to_string(acc.group);
  if (const std::string why = validate(call); !why.empty()) return who + why;
  return {};
}

Int8Gemm detail::to_int8_gemm(const GemmCall& call) {
  return {static_cast<const std::int8_t*>(call.a), call.lda, static_cast<const std::int8_t*>(call.b),
          call.ldb, call.c, call.ldc, call.m, call.n, call.k,
          call.acc.overflow == AccOverflow::saturate, call.acc.fp32_epilogue};
}

void emulate_gemm(Int8Kernel kernel, const GemmCall& call) {
  require_supported(kernel, call);
  const Int8Gemm g = detail::to_int8_gemm(call);
  if (kernel == Int8Kernel::dp4a) {
    const Dp4aModel dp4a{g.saturate};
    for (int row = 0; row < g.m; ++row)
      for (int col = 0; col < g.n; ++col) dp4a_thread(g, row, col, dp4a);
    return;
  }
  std::vector<MmaLane> lanes(kWarpSize);
  for (int m0 = 0; m0 < g.m; m0 += kWarpM)
    for (int n0 = 0; n0 < g.n; n0 += kWarpN)
      mma_warp_tile<kWarpSize>(g, m0, n0, 0, lanes.data(), MmaModel{g.saturate});
}

void run_gemm_on_device(Int8Kernel kernel, const GemmCall& call) {
  require_supported(kernel, call);
  if (const std::string why = device_unavailable(kernel); !why.empty())
    throw std::runtime_error("cuda " + std::string(name(kernel)) + ": " + why);
  detail::run_copied_on_device(kernel, detail::to_int8_gemm(call));
}

void gemm_int8_dp4a(const GemmCall& call) { run_gemm_on_device(Int8Kernel::dp4a, call); }
void gemm_int8_mma(const GemmCall& call) { run_gemm_on_device(Int8Kernel::mma, call); }
void gemm_int8_dp4a_emulated(const GemmCall& call) { emulate_gemm(Int8Kernel::dp4a, call); }
void gemm_int8_mma_emulated(const GemmCall& call) { emulate_gemm(Int8Kernel::mma, call); }

}  // namespace lpsim::fast::gpu
