// The AVX-512 VNNI path: vpdpwssd (wrap), vpdpwssds (saturate), vpdpbusd (int8, sign-compensated).
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma; entered only when registry.cpp
// has seen all of them in CPUID.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fast/gemm_engine.hpp"
#include "fast/gemm_entries.hpp"

namespace lpsim::fast::detail {
namespace {

struct Avx512Ops {
  static constexpr MicroTile kTile = kAvx512Tile;
  static constexpr bool kHasQuads = true;
  using Vec = __m512i;

  static Vec zero() { return _mm512_setzero_si512(); }
  static Vec load(const std::int32_t* p) { return _mm512_loadu_si512(p); }
  static void store(std::int32_t* p, Vec v) { _mm512_storeu_si512(p, v); }
  static Vec broadcast(const void* p) {
    std::int32_t word;
    std::memcpy(&word, p, sizeof word);
    return _mm512_set1_epi32(word);
  }
  static Vec load_b(const void* p) { return _mm512_loadu_si512(p); }

  static Vec dot_pairs(Vec acc, Vec a, Vec b) { return _mm512_dpwssd_epi32(acc, a, b); }
  static Vec dot_pairs_saturate(Vec acc, Vec a, Vec b) { return _mm512_dpwssds_epi32(acc, a, b); }
  static Vec dot_quads(Vec acc, Vec a, Vec b) { return _mm512_dpbusd_epi32(acc, a, b); }
  static void flush(float* out, Vec acc, float scale) {
    _mm512_storeu_ps(
        out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(scale), _mm512_loadu_ps(out)));
  }
  static void flush_first(float* out, Vec acc, float scale) {
    _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(scale)));
  }
};

}  // namespace

void gemm_avx512(const GemmCall& call) { run_gemm<Avx512Ops>(call); }

}  // namespace lpsim::fast::detail
