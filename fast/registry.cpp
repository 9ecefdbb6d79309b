#include "fast/registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fast/cuda/cuda_gemm.hpp"
#include "fast/gemm_entries.hpp"
#include "fast/kernel_support.hpp"

namespace lpsim::fast {

namespace {

struct IsaPath {
  Isa isa;
  void (*entry)(const GemmCall&);
  MicroTile tile;
  bool int8_quads;  // int8 as u8 x s8 quads (vpdpbusd), else sign-extended to int16 pairs
  std::string_view int16_wrap, int16_saturate, int8_wrap;
};

constexpr IsaPath kPaths[] = {
    {Isa::scalar, detail::gemm_scalar, kScalarTile, true, "scalar model of vpdpwssd",
     "scalar model of vpdpwssds", "scalar model of vpdpbusd (A+128, then -128 * column sums of B)"},
    {Isa::avx2, detail::gemm_avx2, kAvx2Tile, false, "vpmaddwd + vpaddd",
     "vpmaddwd + saturating add (vpdpwssds emulated)",
     "int8 sign-extended to int16 when packed, vpmaddwd + vpaddd"},
    {Isa::avx512, detail::gemm_avx512, kAvx512Tile, true, "vpdpwssd", "vpdpwssds",
     "vpdpbusd (A+128, then -128 * column sums of B)"},
};

// The same expressions as the engine's Int16Pairs / Int8Quads / Int8AsInt16Pairs schemes.
Tiling tiling_of(const IsaPath& path, ElementType input) {
  const bool quads = input == ElementType::int8 && path.int8_quads;
  return tiling(path.tile, quads ? 4 : 2, quads ? 1 : 2);
}

struct Registry {
  std::deque<std::string> names, instructions;  // stable: the kernels hold views of them
  std::vector<Kernel> kernels;

  void add(const IsaPath& path, ElementType input, AccOverflow overflow, bool flushing) {
    const bool saturate = overflow == AccOverflow::saturate;
    AccumulatorSpec acc;
    acc.overflow = overflow;
    const Tiling t = tiling_of(path, input);
    acc.group = saturate ? 2 : t.k_step;
    acc.flush_every = flushing ? 256 : 0;
    names.push_back(std::string(to_string(input)) + "-gemm-" + std::string(to_string(path.isa)) +
                    (saturate ? "-sat" : "-wrap") + (flushing ? "-flush" : ""));
    instructions.push_back(std::string(input == ElementType::int8 ? path.int8_wrap
                                       : saturate                 ? path.int16_saturate
                                                                  : path.int16_wrap) +
                           (flushing ? "; per chain vcvtdq2ps + vfmadd into fp32" : ""));
    kernels.push_back({names.back(), input, path.isa, acc, instructions.back(), t, path.entry});
  }

  // The CUDA int8 GEMMs on a device, and their host emulation (fast/cuda/cuda_gemm.hpp): wrap,
  // saturate, and saturate with NITI's fp32 epilogue ("-niti").
  void add_cuda(gpu::Int8Kernel kind, std::string_view instruction, Tiling t, bool emulated) {
    const bool mma = kind == gpu::Int8Kernel::mma;
    for (int variant = 0; variant < 3; ++variant) {
      const bool saturate = variant > 0, niti = variant == 2;
      AccumulatorSpec acc = saturate ? gpu::saturating_spec(kind) : AccumulatorSpec{};
      acc.group = gpu::products_per_step(kind);
      acc.fp32_epilogue = niti;
      names.push_back(std::string("cuda-int8-") + (mma ? "mma" : "dp4a") + (saturate ? "-sat" : "") +
                      (niti ? "-niti" : "") + (emulated ? "-emulated" : ""));
      instructions.push_back((emulated ? "host model of " : "") + std::string(instruction) +
                             (saturate ? (mma ? " (.satfinite)" : " (c = 0) + add.sat.s32") : "") +
                             (niti ? " + fp32 clamp epilogue" : ""));
      auto* entry = mma ? (emulated ? gpu::gemm_int8_mma_emulated : gpu::gemm_int8_mma)
                        : (emulated ? gpu::gemm_int8_dp4a_emulated : gpu::gemm_int8_dp4a);
      std::string (*unavailable)() =
          emulated ? +[] { return std::string(); }
          : mma    ? +[] { return gpu::device_unavailable(gpu::Int8Kernel::mma); }
                   : +[] { return gpu::device_unavailable(gpu::Int8Kernel::dp4a); };
      kernels.push_back({names.back(), ElementType::int8, Isa::scalar, acc, instructions.back(), t,
                         entry, unavailable});
    }
  }

  Registry() {
    for (const IsaPath& path : kPaths) {
      for (AccOverflow overflow : {AccOverflow::wrap, AccOverflow::saturate})
        for (bool flushing : {false, true}) add(path, ElementType::int16, overflow, flushing);
      add(path, ElementType::int8, AccOverflow::wrap, false);
    }
    for (bool emulated : {false, true}) {
      // dp4a: one output per thread in 16 x 16 thread blocks; the test shapes straddle the blocks.
      add_cuda(gpu::Int8Kernel::dp4a, "dp4a.s32.s32", {16, 16, 4, 4, 16, 16}, emulated);
      add_cuda(gpu::Int8Kernel::mma, "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32",
               {32, 32, 32, 32, 64, 64}, emulated);
    }
  }
};

const Registry& registry() {
  static const Registry r;
  return r;
}

std::string join_missing(std::initializer_list<std::pair<const char*, bool>> features) {
  std::string missing;
  for (const auto& [name, present] : features)
    if (!present) missing += (missing.empty() ? "" : ", ") + std::string(name);
  return missing.empty() ? "" : "CPU lacks " + missing;
}

}  // namespace

std::string Kernel::why_unavailable() const {
  return unavailable ? unavailable() : missing_cpu_features(isa);
}

bool Kernel::accepts(const AccumulatorSpec& spec) const {
  return !spec.exact && spec.bits == acc.bits && spec.overflow == acc.overflow &&
         spec.fp32_epilogue == acc.fp32_epilogue &&
         (spec.flush_every > 0) == (acc.flush_every > 0) && spec.flush_every % tiling.k_step == 0 &&
         (spec.overflow == AccOverflow::wrap || spec.group == acc.group) && validate(spec).empty();
}

void Kernel::run(const GemmCall& call, int threads) const {
  if (call.input != input)
    throw std::invalid_argument(std::string(name) + ": takes " + std::string(to_string(input)) +
                                " operands, not " + std::string(to_string(call.input)));
  if (!accepts(call.acc))
    throw std::invalid_argument(std::string(name) + ": does not implement this accumulator");
  if (const std::string why = validate(call); !why.empty())
    throw std::invalid_argument(std::string(name) + ": " + why);
  if (const std::string why = why_unavailable(); !why.empty())
    throw std::runtime_error(std::string(name) + ": " + why);
  if (call.m == 0 || call.n == 0) return;
  if (call.k == 0) {  // empty dots: accumulators and totals are 0
    if (call.c_fp32)
      detail::zero_rows(call.c_fp32, call.m, call.n, call.ldc);
    else
      detail::zero_rows(call.c, call.m, call.n, call.ldc);
    return;
  }
  // Whole microtiles of rows per thread; each thread packs its own panels.
  const int rows = round_up((call.m + threads - 1) / std::max(threads, 1), tiling.mr);
  std::vector<std::thread> workers;
  for (int first = rows; first < call.m; first += rows) {
    GemmCall part = call;
    part.m = std::min(rows, call.m - first);
    part.a = static_cast<const char*>(call.a) + first * call.lda * element_size(input);
    if (part.c) part.c += first * call.ldc;
    if (part.c_fp32) part.c_fp32 += first * call.ldc;
    workers.emplace_back(entry, part);
  }
  GemmCall own = call;
  own.m = std::min(rows, call.m);
  entry(own);
  for (std::thread& worker : workers) worker.join();
}

std::span<const Kernel> kernels() { return registry().kernels; }

const Kernel* find_kernel(std::string_view name) {
  for (const Kernel& k : kernels())
    if (k.name == name) return &k;
  return nullptr;
}

std::string missing_cpu_features(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::scalar:
      return {};
    case Isa::avx2:
      return join_missing(
          {{"avx2", __builtin_cpu_supports("avx2")}, {"fma", __builtin_cpu_supports("fma")}});
    case Isa::avx512:
      return join_missing({{"avx512f", __builtin_cpu_supports("avx512f")},
                           {"avx512bw", __builtin_cpu_supports("avx512bw")},
                           {"avx512vl", __builtin_cpu_supports("avx512vl")},
                           {"avx512vnni", __builtin_cpu_supports("avx512vnni")}});
  }
  return "unknown instruction set";
}

std::optional<Isa> requested_isa() {
  const char* name = std::getenv("LPSIM_ISA");
  if (!name || !*name) return std::nullopt;
  Isa isa;
  if (!parse_isa(name, isa))
    throw std::invalid_argument(std::string("LPSIM_ISA=") + name +
                                ": expected scalar, avx2 or avx512");
  return isa;
}

const Kernel& select_kernel(ElementType input, const AccumulatorSpec& acc, std::optional<Isa> isa) {
  if (!isa) isa = requested_isa();
  const Kernel* chosen = nullptr;
  for (const Kernel& k : kernels())
    if (!k.unavailable && k.input == input && k.accepts(acc) &&
        (isa ? k.isa == *isa : k.available()))  // never picks a GPU or an emulation
      chosen = &k;  // the registry lists ISAs from slowest to fastest
  if (!chosen)
    throw std::invalid_argument("no " + std::string(to_string(input)) +
                                " kernel for this accumulator" +
                                (isa ? " on " + std::string(to_string(*isa)) : std::string()));
  if (const std::string why = missing_cpu_features(chosen->isa); !why.empty())
    throw std::invalid_argument(std::string(chosen->name) + ": " + why);
  return *chosen;
}

}  // namespace lpsim::fast
