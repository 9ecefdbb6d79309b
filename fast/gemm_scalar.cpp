// The scalar path: the instructions' semantics lane by lane, in the shared algorithm. It doubles
// as the portable fallback and as the test of Int8Quads (the vpdpbusd scheme) on CPUs without VNNI.
#include <cmath>
#include <cstring>

#include "fast/gemm_engine.hpp"
#include "fast/gemm_entries.hpp"

namespace lpsim::fast::detail {
namespace {

struct ScalarOps {
  static constexpr MicroTile kTile = kScalarTile;
  static constexpr int kLanes = kTile.lanes;
  static constexpr bool kHasQuads = true;
  struct Vec {
    std::int32_t lane[kLanes];
  };

  static Vec zero() { return {}; }
  static Vec load(const std::int32_t* p) {
    Vec v;
    std::memcpy(v.lane, p, sizeof v.lane);
    return v;
  }
  static void store(std::int32_t* p, const Vec& v) { std::memcpy(p, v.lane, sizeof v.lane); }
  static Vec broadcast(const void* p) {
    Vec v;
    for (auto& x : v.lane) std::memcpy(&x, p, sizeof x);
    return v;
  }
  static Vec load_b(const void* p) { return load(static_cast<const std::int32_t*>(p)); }

  // Element `index` of the T values packed little-endian in a lane.
  template <class T>
  static std::int64_t element(std::int32_t lane, int index) {
    T x;
    std::memcpy(&x, reinterpret_cast<const unsigned char*>(&lane) + index * sizeof(T), sizeof x);
    return x;
  }
  static std::int32_t wrap(std::int64_t x) { return std::int32_t(std::uint32_t(x)); }
  static std::int64_t pair_sum(std::int32_t a, std::int32_t b) {
    return element<std::int16_t>(a, 0) * element<std::int16_t>(b, 0) +
           element<std::int16_t>(a, 1) * element<std::int16_t>(b, 1);
  }

  static Vec dot_pairs(Vec acc, const Vec& a, const Vec& b) {
    for (int l = 0; l < kLanes; ++l)
      acc.lane[l] = wrap(acc.lane[l] + pair_sum(a.lane[l], b.lane[l]));
    return acc;
  }
  static Vec dot_pairs_saturate(Vec acc, const Vec& a, const Vec& b) {
    constexpr std::int64_t kMax = INT32_MAX, kMin = INT32_MIN;
    for (int l = 0; l < kLanes; ++l) {
      const std::int64_t sum = acc.lane[l] + pair_sum(a.lane[l], b.lane[l]);
      acc.lane[l] = std::int32_t(sum > kMax ? kMax : sum < kMin ? kMin : sum);
    }
    return acc;
  }
  static Vec dot_quads(Vec acc, const Vec& a, const Vec& b) {
    for (int l = 0; l < kLanes; ++l) {
      std::int64_t sum = acc.lane[l];
      for (int e = 0; e < 4; ++e)
        sum += element<std::uint8_t>(a.lane[l], e) * element<std::int8_t>(b.lane[l], e);
      acc.lane[l] = wrap(sum);
    }
    return acc;
  }
  static void flush(float* out, const Vec& acc, float scale) {
    for (int l = 0; l < kLanes; ++l) out[l] = std::fma(float(acc.lane[l]), scale, out[l]);
  }
  static void flush_first(float* out, const Vec& acc, float scale) {
    for (int l = 0; l < kLanes; ++l) out[l] = float(acc.lane[l]) * scale;
  }
};

}  // namespace

void gemm_scalar(const GemmCall& call) { run_gemm<ScalarOps>(call); }

}  // namespace lpsim::fast::detail
