// The AVX2 path: vpmaddwd + vpaddd (int16 pairs; int8 sign-extended to int16 when packed).
// Compiled with -mavx2 -mfma; entered only when registry.cpp has seen both in CPUID.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "fast/gemm_engine.hpp"
#include "fast/gemm_entries.hpp"

namespace lpsim::fast::detail {
namespace {

struct Avx2Ops {
  static constexpr MicroTile kTile = kAvx2Tile;
  static constexpr bool kHasQuads = false;  // no u8 x s8 quads without VNNI
  using Vec = __m256i;

  static Vec zero() { return _mm256_setzero_si256(); }
  static Vec load(const std::int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const Vec*>(p));
  }
  static void store(std::int32_t* p, Vec v) { _mm256_storeu_si256(reinterpret_cast<Vec*>(p), v); }
  static Vec broadcast(const void* p) {
    std::int32_t word;
    std::memcpy(&word, p, sizeof word);
    return _mm256_set1_epi32(word);
  }
  static Vec load_b(const void* p) { return _mm256_loadu_si256(static_cast<const Vec*>(p)); }

  // vpmaddwd wraps only 2 * (-32768)^2 = 2^31 (to INT32_MIN); modulo 2^32 the sum is exact.
  static Vec dot_pairs(Vec acc, Vec a, Vec b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
  // vpdpwssds, emulated: the pair sum is exact except that 2^31 reads as INT32_MIN, which no true
  // pair sum equals (the least is -2^31 + 2^16). acc + pair overflows when the wrapped sum's sign
  // differs from both operands' signs; for the true 2^31 that test answers exactly the opposite.
  static Vec dot_pairs_saturate(Vec acc, Vec a, Vec b) {
    const Vec pair = _mm256_madd_epi16(a, b);
    const Vec sum = _mm256_add_epi32(acc, pair);
    const Vec wrapped_pair = _mm256_cmpeq_epi32(pair, _mm256_set1_epi32(INT32_MIN));
    const Vec overflow = _mm256_xor_si256(
        _mm256_and_si256(_mm256_xor_si256(acc, sum), _mm256_xor_si256(pair, sum)), wrapped_pair);
    // Overflow only happens towards acc's sign: INT32_MAX when acc >= 0, INT32_MIN when negative.
    const Vec limit = _mm256_xor_si256(_mm256_srai_epi32(acc, 31), _mm256_set1_epi32(INT32_MAX));
    return _mm256_castps_si256(_mm256_blendv_ps(
        _mm256_castsi256_ps(sum), _mm256_castsi256_ps(limit), _mm256_castsi256_ps(overflow)));
  }
  static void flush(float* out, Vec acc, float scale) {
    _mm256_storeu_ps(
        out, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(scale), _mm256_loadu_ps(out)));
  }
  static void flush_first(float* out, Vec acc, float scale) {
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(scale)));
  }
};

}  // namespace

void gemm_avx2(const GemmCall& call) { run_gemm<Avx2Ops>(call); }

}  // namespace lpsim::fast::detail
