// The GEMM algorithm of every ISA path: packing, cache blocking, chain segmentation and a
// register-blocked microkernel, written once over a small vector-ops traits struct. Included only
// by the per-ISA translation units (gemm_scalar.cpp, gemm_avx2.cpp, gemm_avx512.cpp), so the
// code compiled for AVX-512 VNNI is the logic the scalar and AVX2 paths test here.
//
// Every function here is a template on Ops, a type local to one ISA's translation unit, and calls
// no inline function or library template that could be emitted out of line (the helpers live in
// kernel_support.cpp): the linker can never hand AVX-512 code to a CPU without AVX-512.
//
// Ops provides (one Vec holds kTile.lanes int32 accumulators, one per output column):
//   kTile (fast/tiling.hpp), kHasQuads;
//   zero(), load(const int32_t*), store(int32_t*, Vec)                           unaligned
//   broadcast(const void* p): the 32-bit word at p in every lane
//   load_b(const void* p): kTile.lanes 32-bit words
//   dot_pairs(acc, a, b):          acc + a.lo*b.lo + a.hi*b.hi per lane, mod 2^32   (vpdpwssd)
//   dot_pairs_saturate(acc, a, b): the pair sum exactly, then one saturating add   (vpdpwssds)
//   dot_quads(acc, a, b):  acc + sum of 4 products u8(a) * s8(b), mod 2^32          (vpdpbusd)
//   flush(float* out, acc, scale): out = fma(float(acc) [nearest-even], scale, out) per lane
//   flush_first(float* out, acc, scale): out = float(acc) * scale, which is fma(., scale, +0):
//     both round the exact product once, and a zero acc gives +0 either way
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fast/gemm.hpp"
#include "fast/kernel_support.hpp"
#include "fast/tiling.hpp"

namespace lpsim::fast::detail {

// How source elements are laid out for the instruction: each 32-bit lane holds kDepth
// consecutive-k elements of one row of A (broadcast) or one column of B.
struct Int16Pairs {  // vpmaddwd / vpdpwssd(s)
  using Source = std::int16_t;
  using PackedA = std::int16_t;
  using PackedB = std::int16_t;
  static constexpr int kDepth = 2;
  static constexpr int kOffsetA = 0;
};
struct Int8AsInt16Pairs {  // sign-extended to int16: every pair sum exact, then vpmaddwd
  using Source = std::int8_t;
  using PackedA = std::int16_t;
  using PackedB = std::int16_t;
  static constexpr int kDepth = 2;
  static constexpr int kOffsetA = 0;
};
// vpdpbusd multiplies u8 by s8, so A is stored as a + 128 and each column's result starts at
// -128 * sum_p b[p][j]: sum (a+128) b - 128 sum b = sum a b exactly modulo 2^32, i.e. for a
// wrapping accumulator only.
struct Int8Quads {
  using Source = std::int8_t;
  using PackedA = std::uint8_t;
  using PackedB = std::int8_t;
  static constexpr int kDepth = 4;
  static constexpr int kOffsetA = 128;
};

template <class Ops, class Scheme>
inline constexpr Tiling kTiling = tiling(Ops::kTile, Scheme::kDepth,
                                         int(sizeof(typename Scheme::PackedB)));

template <class Ops>
constexpr std::int64_t smaller(std::int64_t x, std::int64_t y) {
  return x < y ? x : y;
}

// Where a microtile's accumulators come from and go. The state is int32 accumulators (C itself,
// or a workspace for chains that span k-blocks); `total`, when set, receives the finished chain.
struct TileTarget {
  std::int32_t* state;
  std::ptrdiff_t state_ld;
  bool resume;  // start from the state, else from 0
  float* total;
  std::ptrdiff_t total_ld;
  float scale;
  bool first_chain;  // the outputs' first chain: `total` is written, not added to
};

// The kMr rows of A a microtile reads: the word of row i at step s is at
// base + i * row_stride + s * step_stride (bytes): packed panels, or A itself when it needs no
// conversion.
struct APanel {
  const unsigned char* base;
  std::ptrdiff_t row_stride, step_stride;
};

// `steps` k-steps of A (kMr words each) times packed B (kNr words each).
template <class Ops, class Scheme, bool kSaturate>
void microkernel(int steps, APanel ap, const std::uint32_t* bp, const TileTarget& t) {
  using Vec = typename Ops::Vec;
  constexpr int kMr = Ops::kTile.rows, kNv = Ops::kTile.vectors, kL = Ops::kTile.lanes;
  Vec acc[kMr][kNv];
#pragma GCC unroll 32
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v)
      acc[i][v] = t.resume ? Ops::load(t.state + i * t.state_ld + v * kL) : Ops::zero();
#pragma GCC unroll 2
  for (int s = 0; s < steps; ++s, ap.base += ap.step_stride, bp += kNv * kL) {
    Vec b[kNv];
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) b[v] = Ops::load_b(bp + v * kL);
#pragma GCC unroll 32
    for (int i = 0; i < kMr; ++i) {
      const Vec a = Ops::broadcast(ap.base + i * ap.row_stride);
#pragma GCC unroll 8
      for (int v = 0; v < kNv; ++v) {
        if constexpr (Scheme::kDepth == 4)
          acc[i][v] = Ops::dot_quads(acc[i][v], a, b[v]);
        else if constexpr (kSaturate)
          acc[i][v] = Ops::dot_pairs_saturate(acc[i][v], a, b[v]);
        else
          acc[i][v] = Ops::dot_pairs(acc[i][v], a, b[v]);
      }
    }
  }
#pragma GCC unroll 32
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < kNv; ++v) {
      if (t.total && t.first_chain)
        Ops::flush_first(t.total + i * t.total_ld + v * kL, acc[i][v], t.scale);
      else if (t.total)
        Ops::flush(t.total + i * t.total_ld + v * kL, acc[i][v], t.scale);
      else
        Ops::store(t.state + i * t.state_ld + v * kL, acc[i][v]);
    }
}

// The 32-bit word of `count` (<= kDepth) consecutive-k elements, each `element(d)` converted to
// the packed type; the missing elements of a short last step are zero.
template <class Packed, int kDepth, class Element>
std::uint32_t pack_word(int count, Element element) {
  using Bits = std::make_unsigned_t<Packed>;
  std::uint32_t word = 0;
#pragma GCC unroll 4
  for (int d = 0; d < kDepth; ++d)
    if (d < count) word |= std::uint32_t(Bits(Packed(element(d)))) << (d * 8 * sizeof(Packed));
  return word;
}

// Rows [row0, row0 + rows) and k [k0, k0 + depth) of A into panels of kMr rows, each panel
// `steps` x kMr words; rows and k beyond the range are zero.
template <class Ops, class Scheme>
void pack_a(const typename Scheme::Source* a, std::ptrdiff_t lda, int row0, int rows, int k0,
            int depth, int steps, std::uint32_t* out) {
  using PackedA = typename Scheme::PackedA;
  constexpr int kMr = Ops::kTile.rows, kD = Scheme::kDepth;
  const int full_steps = depth / kD;
  for (int panel = 0; panel * kMr < rows; ++panel)
    for (int i = 0; i < kMr; ++i) {
      const int row = panel * kMr + i;
      std::uint32_t* dst = out + std::ptrdiff_t(panel) * steps * kMr + i;
      if (row >= rows) {
        for (int s = 0; s < steps; ++s) dst[s * kMr] = 0;
        continue;
      }
      const typename Scheme::Source* src = a + (row0 + row) * lda + k0;
      auto element = [&](int p) { return src[p] + Scheme::kOffsetA; };
      if constexpr (std::is_same_v<typename Scheme::Source, PackedA> && Scheme::kOffsetA == 0)
        for (int s = 0; s < full_steps; ++s) std::memcpy(&dst[s * kMr], src + s * kD, 4);
      else
        for (int s = 0; s < full_steps; ++s)
          dst[s * kMr] = pack_word<PackedA, kD>(kD, [&](int d) { return element(s * kD + d); });
      if (full_steps < steps)
        dst[full_steps * kMr] = pack_word<PackedA, kD>(
            depth - full_steps * kD, [&](int d) { return element(full_steps * kD + d); });
    }
}

// Columns [col0, col0 + cols) and k [k0, k0 + depth) of B into panels of kNr columns, each panel
// `steps` x kNr words; columns and k beyond the range are zero.
template <class Ops, class Scheme>
void pack_b(const typename Scheme::Source* b, std::ptrdiff_t ldb, int k0, int depth, int col0,
            int cols, int steps, std::uint32_t* out) {
  using PackedB = typename Scheme::PackedB;
  constexpr int kNr = kTiling<Ops, Scheme>.nr, kD = Scheme::kDepth;
  // Row-major B is read along its rows (kD at a time), so each page is visited once.
  for (int s = 0; s < steps; ++s) {
    const typename Scheme::Source* src = b + (k0 + s * kD) * ldb + col0;
    const int count = int(smaller<Ops>(kD, depth - s * kD));
    for (int panel = 0; panel * kNr < cols; ++panel, src += kNr) {
      std::uint32_t* dst = out + (std::ptrdiff_t(panel) * steps + s) * kNr;
      const int width = int(smaller<Ops>(kNr, cols - panel * kNr));
      int j = 0;
      if (count == kD)  // the common case, with a constant count: vectorisable
        for (; j < width; ++j)
          dst[j] = pack_word<PackedB, kD>(kD, [&](int d) { return src[d * ldb + j]; });
      else
        for (; j < width; ++j)
          dst[j] = pack_word<PackedB, kD>(count, [&](int d) { return src[d * ldb + j]; });
      for (; j < kNr; ++j) dst[j] = 0;
    }
  }
}

// One GEMM under one policy. K is cut into blocks of kc and each block into segments that end
// at chain boundaries, so every output sees its products in k order: the saturating and
// flushing semantics are sequential and survive the blocking unchanged.
template <class Ops, class Scheme, bool kSaturate>
void gemm(const GemmCall& call) {
  using Source = typename Scheme::Source;
  constexpr Tiling kT = kTiling<Ops, Scheme>;
  constexpr int kMr = kT.mr, kNr = kT.nr, kD = Scheme::kDepth;
  const int m = call.m, n = call.n, k = call.k;
  const auto* a = static_cast<const Source*>(call.a);
  const auto* b = static_cast<const Source*>(call.b);
  const int flush_every = call.acc.flush_every;
  const bool flushing = flush_every > 0;
  const float scale = power_of_two(call.scale_exp);

  // Whole chains per k-block when they fit, so no chain state outlives its block; otherwise
  // blocks of equal size.
  int kc = kT.kc;
  if (flushing && flush_every <= kc)
    kc = kc / flush_every * flush_every;
  else if (!flushing) {
    const int blocks = (k + kc - 1) / kc;
    kc = ((k + blocks - 1) / blocks + kD - 1) / kD * kD;
  }
  const bool chains_span_blocks = flushing && kc % flush_every != 0;

  // Packed operands: one 32-bit word per kDepth elements, for the longest k-block.
  const int longest_block = int(smaller<Ops>(kc, (k + kD - 1) / kD * kD));
  AlignedBuffer packed_a(std::size_t(kT.mc) * longest_block / kD * sizeof(std::uint32_t));
  AlignedBuffer packed_b(std::size_t(smaller<Ops>(kT.nc, (n + kNr - 1) / kNr * kNr)) *
                         longest_block / kD * sizeof(std::uint32_t));
  // int32 state of unfinished chains: C itself, or a workspace when the output is fp32.
  AlignedBuffer chain_state(chains_span_blocks ? std::size_t(m) * n * sizeof(std::int32_t) : 0);
  auto* const a_words = static_cast<std::uint32_t*>(packed_a.data());
  auto* const b_words = static_cast<std::uint32_t*>(packed_b.data());
  // null when flushing with whole chains per block: never needed then
  std::int32_t* state = flushing ? static_cast<std::int32_t*>(chain_state.data()) : call.c;
  const std::ptrdiff_t state_ld = flushing ? n : call.ldc;

  if constexpr (Scheme::kOffsetA != 0) {
    // Start every output of column j at -offset * sum_p b[p][j] (mod 2^32).
    for (int j = 0; j < n; ++j) {
      std::uint32_t column_sum = 0;
      for (int p = 0; p < k; ++p) column_sum += std::uint32_t(std::int32_t(b[p * call.ldb + j]));
      const std::uint32_t start = 0u - std::uint32_t(Scheme::kOffsetA) * column_sum;
      for (int i = 0; i < m; ++i) std::memcpy(&call.c[i * call.ldc + j], &start, sizeof start);
    }
  }

  // Full panels of A that need no conversion are read in place (only an even k keeps every
  // word inside its row); the rest is packed.
  constexpr bool kConvertsA =
      !std::is_same_v<Source, typename Scheme::PackedA> || Scheme::kOffsetA != 0;
  const bool a_in_place = !kConvertsA && k % kD == 0;

  std::int32_t edge_state[kMr * kNr] = {};
  float edge_total[kMr * kNr] = {};
  for (int jc = 0; jc < n; jc += kT.nc) {
    const int nb = int(smaller<Ops>(kT.nc, n - jc));
    for (int pc = 0; pc < k; pc += kc) {
      const int kb = int(smaller<Ops>(kc, k - pc));
      const int block_steps = (kb + kD - 1) / kD;
      pack_b<Ops, Scheme>(b, call.ldb, pc, kb, jc, nb, block_steps, b_words);
      for (int ic = 0; ic < m; ic += kT.mc) {
        const int mb = int(smaller<Ops>(kT.mc, m - ic));
        const int packed_from = a_in_place ? mb / kMr * kMr : 0;
        if (packed_from < mb)
          pack_a<Ops, Scheme>(a, call.lda, ic + packed_from, mb - packed_from, pc, kb, block_steps,
                              a_words);
        for (int jr = 0; jr < nb; jr += kNr)
          for (int ir = 0; ir < mb; ir += kMr) {
            const int rows = int(smaller<Ops>(kMr, mb - ir));
            const int cols = int(smaller<Ops>(kNr, nb - jr));
            const bool edge = rows < kMr || cols < kNr;
            const std::ptrdiff_t row = ic + ir, col = jc + jr;
            const APanel ap =
                ir < packed_from
                    ? APanel{reinterpret_cast<const unsigned char*>(a + row * call.lda + pc),
                             std::ptrdiff_t(call.lda * sizeof(Source)), 4}
                    : APanel{reinterpret_cast<const unsigned char*>(
                                 a_words + std::ptrdiff_t(ir - packed_from) * block_steps),
                             4, 4 * kMr};
            const std::uint32_t* bp = b_words + std::ptrdiff_t(jr) * block_steps;
            for (int s0 = pc; s0 < pc + kb;) {
              const int chain_start = flushing ? s0 - s0 % flush_every : 0;
              const int chain_end = flushing ? int(smaller<Ops>(chain_start + flush_every, k)) : k;
              const int s1 = int(smaller<Ops>(pc + kb, chain_end));
              TileTarget t{
                  state ? state + row * state_ld + col : nullptr,
                  state_ld,
                  flushing ? s0 != chain_start : (s0 != 0 || Scheme::kOffsetA != 0),
                  flushing && s1 == chain_end ? call.c_fp32 + row * call.ldc + col : nullptr,
                  call.ldc,
                  scale,
                  chain_start == 0};
              if (edge) {
                // A partial tile runs on local copies, then only its valid part is written back.
                if (t.resume) copy_tile(t.state, t.state_ld, edge_state, kNr, rows, cols);
                if (t.total && !t.first_chain)
                  copy_tile(t.total, t.total_ld, edge_total, kNr, rows, cols);
                t.state = edge_state;
                t.state_ld = t.total_ld = kNr;
                if (t.total) t.total = edge_total;
              }
              const int offset = (s0 - pc) / kD;
              microkernel<Ops, Scheme, kSaturate>(
                  (s1 - s0 + kD - 1) / kD,
                  {ap.base + offset * ap.step_stride, ap.row_stride, ap.step_stride},
                  bp + offset * kNr, t);
              if (edge) {
                if (t.total)
                  copy_tile(edge_total, kNr, call.c_fp32 + row * call.ldc + col, call.ldc, rows,
                            cols);
                else
                  copy_tile(edge_state, kNr, state + row * state_ld + col, state_ld, rows, cols);
              }
              s0 = s1;
            }
          }
      }
    }
  }
}

// The entry point of one ISA: picks the element scheme and the policy's instantiation.
template <class Ops>
void run_gemm(const GemmCall& call) {
  const bool saturate = call.acc.overflow == AccOverflow::saturate;
  if (call.input == ElementType::int16) {
    if (saturate)
      gemm<Ops, Int16Pairs, true>(call);
    else
      gemm<Ops, Int16Pairs, false>(call);
  } else if constexpr (Ops::kHasQuads) {
    gemm<Ops, Int8Quads, false>(call);
  } else {
    gemm<Ops, Int8AsInt16Pairs, false>(call);
  }
}

}  // namespace lpsim::fast::detail
