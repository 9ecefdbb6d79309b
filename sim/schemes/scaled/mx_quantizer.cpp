#include "sim/schemes/scaled/mx_quantizer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "formats/convert.hpp"
#include "formats/syntax.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::schemes::scaled {

std::string_view to_string(BlockAxis a) { return a == BlockAxis::dim0 ? "dim0" : "dim1"; }

namespace {

// About this many elements per chunk of rows, whatever the thread count.
constexpr std::size_t kChunkElements = std::size_t{1} << 14;

struct View {
  std::size_t outer, length, inner;
};

View view_of(const nn::Dims& d, BlockAxis axis) {
  if (axis == BlockAxis::dim1) return {d.n, d.c, d.plane()};
  return {1, d.n, d.sample()};
}

struct ChunkResult {
  ConversionCounts counts;
  int min_exponent = std::numeric_limits<int>::max();
  int max_exponent = std::numeric_limits<int>::min();

  void add_exponent(int e) {
    if (e == kNanScale) return;
    min_exponent = std::min(min_exponent, e);
    max_exponent = std::max(max_exponent, e);
  }
};

// 2^e for a block scale or its inverse (|e| <= 127; 2^-127 is an f32 subnormal).
float power_of_two(int e) {
  if (e >= -126) return std::bit_cast<float>(std::uint32_t(e + 127) << 23);
  return std::ldexp(1.0f, e);
}

// Float elements, one row: x / 2^X for each block's scale, when every quotient is exact in f32
// (finite block, no nonzero quotient below FLT_MIN). Then the element conversion of the quotients
// is quantize_f32's, bit-identical to the encode() that quantize_block applies to x with its
// exponent lowered by X, and the results times 2^X round once, as quantize_block's do.
bool divide_exactly(const BlockFormat& f, std::span<const float> row, std::span<float> quotients,
                    std::span<int> exponents) {
  const std::size_t width = std::min<std::size_t>(std::size_t(f.block_size), row.size());
  for (std::size_t begin = 0, block = 0; begin < row.size(); begin += width, ++block) {
    const std::size_t end = std::min(row.size(), begin + width);
    float amax = 0;
    bool finite = true;
    for (std::size_t i = begin; i < end; ++i) {
      const float a = std::fabs(row[i]);
      finite &= a <= std::numeric_limits<float>::max();
      amax = a > amax ? a : amax;
    }
    if (!finite) return false;  // a NaN scale: quantize_block
    exponents[block] = shared_exponent(f, amax);
    const float down = power_of_two(-exponents[block]);
    bool exact = true;
    for (std::size_t i = begin; i < end; ++i) {
      quotients[i] = row[i] * down;
      exact &= row[i] == 0 || std::fabs(quotients[i]) >= std::numeric_limits<float>::min();
    }
    if (!exact) return false;
  }
  return true;
}

// Quantizes `rows` rows of `length` elements (blocks within rows) into `out`; element j rounds as
// first_index + j.
ChunkResult quantize_rows(const BlockFormat& f, const ConvertPolicy& policy,
                          std::span<const float> in, std::size_t rows, std::size_t length,
                          std::span<float> out, std::uint64_t first_index) {
  ChunkResult result;
  const std::size_t row_blocks = block_count(f, 1, length);
  std::vector<int> exponents(rows * row_blocks);
  const auto* element = std::get_if<FloatFormat>(&f.element);
  if (!element) {
    result.counts =
        quantize_block(f, in, rows, length, {}, exponents, out, policy, first_index).counts;
  } else {
    auto row_of = [&](auto span, std::size_t r) { return span.subspan(r * length, length); };
    auto exponents_of = [&](std::size_t r) {
      return std::span<int>(exponents).subspan(r * row_blocks, row_blocks);
    };
    std::vector<float> quotients(in.size());
    const std::span<const float> q = quotients;
    std::vector<char> exact(rows);
    for (std::size_t r = 0; r < rows; ++r)
      exact[r] =
          divide_exactly(f, row_of(in, r), row_of(std::span<float>(quotients), r), exponents_of(r));
    const bool all_exact = std::all_of(exact.begin(), exact.end(), [](char e) { return e != 0; });
    if (all_exact) result.counts = quantize_f32(*element, q, out, policy, first_index);
    const std::size_t width = std::min<std::size_t>(std::size_t(f.block_size), length);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::span<float> values = row_of(out, r);
      const std::uint64_t index = first_index + r * length;
      if (!exact[r]) {
        result.counts +=
            quantize_block(f, row_of(in, r), 1, length, {}, exponents_of(r), values, policy, index)
                .counts;
        continue;
      }
      if (!all_exact) result.counts += quantize_f32(*element, row_of(q, r), values, policy, index);
      for (std::size_t begin = 0, block = 0; begin < length; begin += width, ++block) {
        const float up = power_of_two(exponents_of(r)[block]);
        for (std::size_t i = begin; i < std::min(length, begin + width); ++i) values[i] *= up;
      }
    }
  }
  for (int e : exponents) result.add_exponent(e);
  return result;
}

}  // namespace

MxResult quantize_along(const BlockFormat& format, const ConvertPolicy& policy, nn::Tensor& t,
                        BlockAxis axis, std::uint64_t first_index, nn::ThreadPool& pool) {
  if (format.scope != BlockScope::block)
    throw std::invalid_argument("quantize_along needs blocks, not " + to_string(format));
  const auto [outer, length, inner] = view_of(t.dims, axis);
  const std::size_t rows = outer * inner;
  const std::size_t rows_per_chunk =
      std::max<std::size_t>(1, kChunkElements / std::max<std::size_t>(1, length));
  const std::size_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  std::vector<ChunkResult> results(chunks);
  float* x = t.data.data();
  pool.parallel_for(chunks, [&](std::size_t c) {
    const std::size_t first_row = c * rows_per_chunk;
    const std::size_t chunk_rows = std::min(rows_per_chunk, rows - first_row);
    // Row r of the gathered copy is (o, i) = (r / inner, r % inner); its column l is the element
    // (o, l, i) of the tensor.
    auto element = [&](std::size_t r, std::size_t l) -> float& {
      return x[((r / inner) * length + l) * inner + r % inner];
    };
    std::vector<float> gathered(chunk_rows * length), quantized(gathered.size());
    for (std::size_t r = 0; r < chunk_rows; ++r)
      for (std::size_t l = 0; l < length; ++l) gathered[r * length + l] = element(first_row + r, l);
    results[c] = quantize_rows(format, policy, gathered, chunk_rows, length, quantized,
                               first_index + first_row * length);
    for (std::size_t r = 0; r < chunk_rows; ++r)
      for (std::size_t l = 0; l < length; ++l)
        element(first_row + r, l) = quantized[r * length + l];
  });
  MxResult total;
  ChunkResult range;
  for (const ChunkResult& r : results) {
    total.counts += r.counts;
    range.min_exponent = std::min(range.min_exponent, r.min_exponent);
    range.max_exponent = std::max(range.max_exponent, r.max_exponent);
  }
  total.has_exponent = range.min_exponent <= range.max_exponent;
  if (total.has_exponent) {
    total.min_exponent = range.min_exponent;
    total.max_exponent = range.max_exponent;
  }
  return total;
}

MxQuantizer::MxQuantizer(BlockFormat format, ConvertPolicy policy, BlockAxis axis,
                         bool keep_original)
    : format_(std::move(format)), policy_(policy), axis_(axis), keep_original_(keep_original) {}

std::string MxQuantizer::describe() const {
  return to_string(format_) + ":" + std::string(lpsim::to_string(policy_.rounding.mode)) + ":" +
         std::string(lpsim::to_string(policy_.overflow)) +
         ":along=" + std::string(to_string(axis_));
}

std::vector<nn::StatColumn> MxQuantizer::columns() const {
  return {{"mx_min_exponent", "1",
           "Smallest shared exponent X (scale 2^X) over the tensor's MX blocks; the largest is "
           "shared_exponent",
           true}};
}

void MxQuantizer::apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) {
  if (stats) stats->max_abs = nn::finite_max_abs(t.values.span());
  if (!context.part.empty()) {  // biases are no GEMM operand: fp32
    if (stats) stats->counts = nn::fp32_counts(t.values.span());
    return;
  }
  if (keep_original_ && context.training) {
    original_ = t.values;
    original_first_index_ = context.first_index;
    original_stream_ = context.stream;
  }
  ConvertPolicy policy = policy_;
  policy.rounding.stream = context.stream;
  const MxResult r =
      quantize_along(format_, policy, t.values, axis_, context.first_index, context.pool);
  if (!stats) return;
  stats->counts = r.counts;
  if (r.has_exponent) {
    stats->shared_exponent = r.max_exponent;
    stats->extras = {{"mx_min_exponent", std::int64_t(r.min_exponent)}};
  }
}

namespace {

// The weight-gradient copies draw their random numbers apart from the forward conversions.
constexpr std::uint32_t kWeightGradStream = 0x9e3779b9u;

class MxWeightGradEngine final : public nn::GemmEngine {
 public:
  MxWeightGradEngine(std::shared_ptr<const nn::GemmEngine> inner,
                     std::shared_ptr<const MxQuantizer> activations,
                     std::shared_ptr<const MxQuantizer> gradients)
      : inner_(std::move(inner)),
        activations_(std::move(activations)),
        gradients_(std::move(gradients)) {}

  std::string name() const override { return "mx-weight-grad-dim0(" + inner_->name() + ")"; }

  void forward(const nn::ConvGeometry& g, const nn::QTensor& x, const nn::QTensor& w,
               std::span<float> y, nn::ThreadPool& pool) const override {
    inner_->forward(g, x, w, y, pool);
  }
  void backward_data(const nn::ConvGeometry& g, const nn::QTensor& dy, const nn::QTensor& w,
                     std::span<float> dx, nn::ThreadPool& pool) const override {
    inner_->backward_data(g, dy, w, dx, pool);
  }
  void weight_grad(const nn::ConvGeometry& g, const nn::QTensor& x, const nn::QTensor& dy,
                   std::span<float> dw, nn::ThreadPool& pool) const override {
    const nn::QTensor xq = requantized(*activations_, x.values.dims, pool);
    const nn::QTensor dyq = requantized(*gradients_, dy.values.dims, pool);
    inner_->weight_grad(g, xq, dyq, dw, pool);
  }

 private:
  static nn::QTensor requantized(const MxQuantizer& q, const nn::Dims& dims, nn::ThreadPool& pool) {
    if (q.original().dims != dims)
      throw std::logic_error("mx weight gradient: the kept tensor is " +
                             nn::to_string(q.original().dims) + ", the operand " +
                             nn::to_string(dims));
    nn::QTensor copy;
    copy.values = q.original();
    ConvertPolicy policy = q.policy();
    policy.rounding.stream = q.original_stream() ^ kWeightGradStream;
    quantize_along(q.format(), policy, copy.values, BlockAxis::dim0, q.original_first_index(),
                   pool);
    return copy;
  }

  std::shared_ptr<const nn::GemmEngine> inner_;
  std::shared_ptr<const MxQuantizer> activations_, gradients_;
};

}  // namespace

std::shared_ptr<const nn::GemmEngine> mx_weight_grad_engine(
    std::shared_ptr<const nn::GemmEngine> inner, std::shared_ptr<const MxQuantizer> activations,
    std::shared_ptr<const MxQuantizer> gradients) {
  return std::make_shared<MxWeightGradEngine>(std::move(inner), std::move(activations),
                                              std::move(gradients));
}

}  // namespace lpsim::schemes::scaled
