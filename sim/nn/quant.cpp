#include "sim/nn/quant.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "fast/quantize_int16.hpp"
#include "formats/convert.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::nn {

std::string_view to_string(Role r) {
  static constexpr std::string_view names[kRoleCount] = {"W", "A", "G", "E", "U", "BN"};
  return names[int(r)];
}

std::string_view to_string(Direction d) { return d == Direction::forward ? "forward" : "backward"; }

bool operator==(const QuantSpec& a, const QuantSpec& b) {
  const RoundingSpec &ra = a.policy.rounding, &rb = b.policy.rounding;
  return a.format == b.format && a.keep_codes == b.keep_codes && a.custom == b.custom &&
         a.policy.overflow == b.policy.overflow && ra.mode == rb.mode &&
         ra.random_bits == rb.random_bits && ra.seed == rb.seed && ra.stream == rb.stream;
}

std::string to_string(const QuantSpec& s) {
  if (s.custom) return s.custom->describe();
  if (s.is_fp32()) return "fp32";
  std::string text = to_string(*s.format) + ":" + std::string(to_string(s.policy.rounding.mode)) +
                     ":" + std::string(to_string(s.policy.overflow));
  if (s.policy.rounding.mode == Rounding::stochastic)
    text += ":random-bits=" + std::to_string(s.policy.rounding.random_bits);
  return text;
}

namespace {

// Conversions run on fixed chunks of the tensor, so the work split never depends on the threads.
constexpr std::size_t kChunk = std::size_t{1} << 15;

struct ChunkResult {
  float max_abs = 0;
  ConversionCounts counts;
};

}  // namespace

float finite_max_abs(std::span<const float> x) {
  float m = 0;
  for (float v : x) {
    const float a = std::fabs(v);
    if (a > m && a != INFINITY) m = a;  // NaN compares false
  }
  return m;
}

ConversionCounts fp32_counts(std::span<const float> x) {
  ConversionCounts c;
  for (float v : x) {
    switch (std::fpclassify(v)) {
      case FP_ZERO:
        ++c.zero;
        break;
      case FP_SUBNORMAL:
        ++c.subnormal;
        break;
      case FP_NAN:
        ++c.nan;
        break;
      default:
        break;
    }
  }
  return c;
}

namespace {

ConversionCounts convert_chunk(const QuantSpec& spec, std::span<float> x,
                               std::uint64_t first_index) {
  if (const auto* f = std::get_if<FloatFormat>(&*spec.format))
    return quantize_f32(*f, x, x, spec.policy, first_index);
  // Fixed point: the general element-by-element path, through doubles (exact for f32 inputs).
  const auto& fixed = std::get<FixedFormat>(*spec.format);
  std::vector<double> wide(x.begin(), x.end());
  const ConversionCounts c =
      quantize_f64(ScalarFormat{fixed}, wide, wide, spec.policy, first_index);
  std::transform(wide.begin(), wide.end(), x.begin(), [](double v) { return float(v); });
  return c;
}

// Tensor-scope fixed point with int16 codes: fast/'s vectorised passes over fixed chunks (the
// finite max, then the codes and values in place), bit-identical to quantize_block().
void convert_tensor_int16(const BlockFormat& f, const FixedFormat& element, const QuantSpec& spec,
                          QTensor& t, TensorStats* stats, std::uint64_t first_index,
                          ThreadPool& pool) {
  const std::span<float> x = t.values.span();
  const std::size_t n = x.size(), chunks = (n + kChunk - 1) / kChunk;
  auto chunk = [&](auto span, std::size_t i) {
    return span.subspan(i * kChunk, std::min(kChunk, n - i * kChunk));
  };
  std::vector<ChunkResult> results(chunks);
  pool.parallel_for(chunks,
                    [&](std::size_t i) { results[i].max_abs = fast::finite_max_abs(chunk(x, i)); });
  float max_abs = 0;
  for (const ChunkResult& r : results) max_abs = std::max(max_abs, r.max_abs);
  const int exponent = shared_exponent(f, max_abs);
  if (spec.keep_codes) t.codes.resize(n);
  const std::span<std::int16_t> codes(t.codes);
  pool.parallel_for(chunks, [&](std::size_t i) {
    results[i].counts = fast::quantize_int16(element, exponent, chunk(x, i),
                                             spec.keep_codes ? chunk(codes, i) : codes, chunk(x, i),
                                             spec.policy, first_index + i * kChunk);
  });
  t.exponents.assign(1, exponent);
  if (!stats) return;
  stats->max_abs = max_abs;
  for (const ChunkResult& r : results) stats->counts += r.counts;
  stats->shared_exponent = exponent;
}

void convert_block(const BlockFormat& f, const QuantSpec& spec, QTensor& t, TensorStats* stats,
                   std::uint64_t first_index, ThreadPool& pool) {
  if (const auto* element = std::get_if<FixedFormat>(&f.element);
      element && f.scope == BlockScope::tensor && f.rule != ExponentRule::mx &&
      fast::int16_quantizable(*element, spec.policy)) {
    convert_tensor_int16(f, *element, spec, t, stats, first_index, pool);
    return;
  }
  const std::size_t rows = t.values.dims.n, cols = t.values.dims.sample();
  const std::vector<float> in = t.values.data;
  t.exponents.resize(block_count(f, rows, cols));
  std::vector<std::uint64_t> codes(spec.keep_codes ? in.size() : 0);
  const BlockResult r = quantize_block(f, in, rows, cols, codes, t.exponents, t.values.span(),
                                       spec.policy, first_index);
  if (spec.keep_codes) {
    const auto* element = std::get_if<FixedFormat>(&f.element);
    if (!element || element->total_bits() > 16)
      throw std::invalid_argument("keep_codes needs 16-bit or narrower integer elements, not " +
                                  to_string(f));
    t.codes.resize(codes.size());
    std::transform(codes.begin(), codes.end(), t.codes.begin(),
                   [&](std::uint64_t c) { return std::int16_t(element->to_int(c)); });
  }
  if (stats) {
    stats->max_abs = finite_max_abs(in);
    stats->counts = r.counts;
    if (t.exponents.size() == 1) stats->shared_exponent = t.exponents[0];
  }
}

}  // namespace

void convert(const QuantSpec& spec, QTensor& t, const QuantContext& context, TensorStats* stats) {
  if (stats) {
    *stats = TensorStats{};
    stats->elements = std::int64_t(t.values.size());
  }
  t.exponents.clear();
  t.codes.clear();
  if (spec.custom) {
    spec.custom->apply(t, context, stats);
    return;
  }
  if (spec.is_fp32() && !stats) return;
  const std::uint64_t first_index = context.first_index;
  ThreadPool& pool = context.pool;
  if (const auto* block = spec.is_fp32() ? nullptr : std::get_if<BlockFormat>(&*spec.format)) {
    convert_block(*block, spec, t, stats, first_index, pool);
    return;
  }
  const std::size_t n = t.values.size(), chunks = (n + kChunk - 1) / kChunk;
  std::vector<ChunkResult> results(chunks);
  pool.parallel_for(chunks, [&](std::size_t i) {
    const std::size_t begin = i * kChunk;
    const std::span<float> x = t.values.span().subspan(begin, std::min(kChunk, n - begin));
    if (stats) results[i].max_abs = finite_max_abs(x);
    if (spec.is_fp32())
      results[i].counts = fp32_counts(x);
    else
      results[i].counts = convert_chunk(spec, x, first_index + begin);
  });
  if (!stats) return;
  for (const ChunkResult& r : results) {
    stats->max_abs = std::max(stats->max_abs, double(r.max_abs));
    stats->counts += r.counts;
  }
}

}  // namespace lpsim::nn
