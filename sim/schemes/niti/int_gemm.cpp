#include "sim/schemes/niti/int_gemm.hpp"

#include <algorithm>
#include <span>
#include <vector>

#include "fast/conv.hpp"
#include "fast/registry.hpp"
#include "sim/schemes/niti/pieces.hpp"

namespace lpsim::schemes::niti {

namespace {

constexpr int kChannelPad = 16;  // NITI pads NHWC channels to a multiple of 16 for CUTLASS
constexpr std::size_t kRowsPerPiece = 16;  // the fast path runs GEMMs in pieces of 16 rows

// and convolutions in one piece of images per thread: the fast path is exact, so the split cannot
// change the bits, and fewer calls share fast/'s per-call lowering of the weights.
std::size_t images_per_piece(const nn::ThreadPool& pool, int batch) {
  const std::size_t threads = std::size_t(pool.threads());
  return (std::size_t(batch) + threads - 1) / threads;
}

int padded_channels(int c) { return (c + kChannelPad - 1) / kChannelPad * kChannelPad; }

// fast/'s int8 GEMM with an int32 wrapping accumulator: exact while no sum leaves int32.
const fast::Kernel& wrap_kernel() {
  static const fast::Kernel& kernel =
      fast::select_kernel(fast::ElementType::int8, AccumulatorSpec{});
  return kernel;
}

// The largest sum of |products| that no policy can tell from the exact sum.
std::int64_t safe_limit(const AccumulatorSpec& spec) {
  return (std::int64_t{1} << (spec.bits - 1)) - 1;
}

struct Norms {
  std::int64_t l1 = 0, max = 0;  // sum and maximum of |v|
};

// The norms of n int8 values (summed in int32 blocks of 2^23, so that the loop vectorises).
Norms norms(const std::int8_t* v, std::size_t n) {
  Norms out;
  for (std::size_t first = 0; first < n; first += std::size_t{1} << 23) {
    const std::size_t end = std::min(n, first + (std::size_t{1} << 23));
    std::int32_t l1 = 0, max = 0;
    for (std::size_t i = first; i < end; ++i) {
      const std::int32_t m = v[i] < 0 ? -std::int32_t{v[i]} : std::int32_t{v[i]};
      l1 += m;
      max = std::max(max, m);
    }
    out.l1 += l1;
    out.max = std::max<std::int64_t>(out.max, max);
  }
  return out;
}

// One output at a time under the policy (without its epilogue), from its products in order.
class ExactOutput {
 public:
  ExactOutput(const AccumulatorSpec& spec, AccumulationStats& stats) : spec_(spec), stats_(stats) {
    spec_.fp32_epilogue = false;
  }
  void add(std::int32_t a, std::int32_t b) {
    a_.push_back(a);
    b_.push_back(b);
  }
  std::int32_t finish() {
    const DotResult r = dot(spec_, a_, b_);
    stats_.saturations += std::int64_t(r.saturations);
    stats_.wraps += std::int64_t(r.wraps);
    ++stats_.exact_outputs;
    a_.clear();
    b_.clear();
    return std::int32_t(r.integer);
  }

 private:
  AccumulatorSpec spec_;
  AccumulationStats& stats_;
  std::vector<std::int32_t> a_, b_;
};

// max(v >= 0 ? v : -v - 1): below 2^24 - 1, every |v| is below 2^24 (and INT32_MIN cannot
// overflow).
std::int32_t max_magnitude(const std::int32_t* out, std::size_t n) {
  std::int32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, out[i] < 0 ? -(out[i] + 1) : out[i]);
  return m;
}

// The policy's fp32 epilogue on every output: formats' definition, applied to the final
// accumulator as a one-product dot (v * 1), so that the integer path itself holds no float
// instruction. Values below 2^24 pass unchanged.
void apply_epilogue(const AccumulatorSpec& spec, std::int32_t* out, std::size_t n,
                    nn::ThreadPool& pool, AccumulationStats& stats) {
  constexpr std::int32_t kExact = 1 << 24;
  if (!spec.fp32_epilogue || max_magnitude(out, n) < kExact - 1) return;
  AccumulatorSpec through;
  through.bits = spec.bits;
  through.fp32_epilogue = true;
  constexpr std::int32_t kOne = 1;
  for (std::int64_t changed : map_pieces<std::int64_t>(
           pool, n, kElementsPerPiece, [&](std::size_t first, std::size_t count) {
             std::int64_t changed = 0;
             for (std::size_t i = first; i < first + count; ++i) {
               if (out[i] < kExact && out[i] > -kExact) continue;
               const auto v = std::int32_t(dot(through, {&out[i], 1}, {&kOne, 1}).integer);
               changed += v != out[i];
               out[i] = v;
             }
             return changed;
           }))
    stats.epilogue_rounded += changed;
}

}  // namespace

std::string unsupported(const AccumulatorSpec& spec) {
  if (const std::string why = validate(spec); !why.empty()) return why;
  if (spec.exact) return "an unbounded accumulator has no int32 results";
  if (spec.bits > 32) return "more than 32 accumulator bits";
  if (spec.flush_every > 0) return "flushing to fp32 is Das et al.'s, not NITI's";
  return {};
}

void conv_forward(const AccumulatorSpec& spec, const nn::ConvGeometry& g, const std::int8_t* x,
                  const std::int8_t* w, std::int32_t* y, nn::ThreadPool& pool,
                  AccumulationStats& stats) {
  const std::size_t in_image = std::size_t(g.channels) * g.height * g.width;
  const int oh_count = g.out_height(), ow_count = g.out_width();
  const std::size_t out_plane = std::size_t(oh_count) * ow_count,
                    out_image = std::size_t(g.filters) * out_plane;
  for_pieces(pool, std::size_t(g.batch), images_per_piece(pool, g.batch),
             [&](std::size_t first, std::size_t count) {
               fast::conv2d_forward(wrap_kernel(), nn::to_conv2d_shape(g, int(count)), x + first * in_image, w,
                                    {y + first * out_image, nullptr}, {AccumulatorSpec{}, 0});
             });
  // Bound of output (n, k, ., .): sum |w[k]| * max |x[n]|.
  const std::size_t patch = std::size_t(g.patch());
  std::vector<std::int64_t> w_l1(std::size_t(g.filters), 0), x_max(std::size_t(g.batch), 0);
  for (std::size_t k = 0; k < w_l1.size(); ++k) w_l1[k] = norms(w + k * patch, patch).l1;
  for (std::size_t n = 0; n < x_max.size(); ++n) x_max[n] = norms(x + n * in_image, in_image).max;
  ExactOutput exact(spec, stats);
  const int channels = padded_channels(g.channels);
  for (int n = 0; n < g.batch; ++n)
    for (int k = 0; k < g.filters; ++k) {
      if (w_l1[k] * x_max[n] <= safe_limit(spec)) continue;
      const std::int8_t* image = x + n * in_image;
      const std::int8_t* filter = w + k * patch;
      for (int oh = 0; oh < oh_count; ++oh)
        for (int ow = 0; ow < ow_count; ++ow) {
          for (int r = 0; r < g.kernel; ++r)
            for (int s = 0; s < g.kernel; ++s) {
              const int ih = oh * g.stride + r - g.pad, iw = ow * g.stride + s - g.pad;
              const bool inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width;
              for (int c = 0; c < channels; ++c) {
                const bool real = c < g.channels;
                exact.add(real && inside ? image[(c * g.height + ih) * g.width + iw] : 0,
                          real ? filter[(c * g.kernel + r) * g.kernel + s] : 0);
              }
            }
          y[n * out_image + k * out_plane + oh * ow_count + ow] = exact.finish();
        }
    }
  apply_epilogue(spec, y, g.batch * out_image, pool, stats);
}

void conv_backward_data(const AccumulatorSpec& spec, const nn::ConvGeometry& g,
                        const std::int8_t* dy, const std::int8_t* w, std::int32_t* dx,
                        nn::ThreadPool& pool, AccumulationStats& stats) {
  const std::size_t in_plane = std::size_t(g.height) * g.width,
                    in_image = std::size_t(g.channels) * in_plane;
  const int oh_count = g.out_height(), ow_count = g.out_width();
  const std::size_t out_plane = std::size_t(oh_count) * ow_count,
                    out_image = std::size_t(g.filters) * out_plane;
  if (g.stride == 1 && g.pad < g.kernel) {
    // As NITI computes it: the forward convolution of dy with the flipped kernels, channels and
    // filters swapped, padded by kernel - 1 - pad (fast/'s forward lowering is the quicker one).
    const nn::ConvGeometry flipped{g.batch,    g.filters, oh_count, ow_count,
                                   g.channels, g.kernel,  1,        g.kernel - 1 - g.pad};
    const std::size_t taps = std::size_t(g.kernel) * g.kernel;
    std::vector<std::int8_t> w_flipped(std::size_t(g.filters) * g.channels * taps);
    for (std::size_t k = 0; k < std::size_t(g.filters); ++k)
      for (std::size_t c = 0; c < std::size_t(g.channels); ++c)
        for (std::size_t t = 0; t < taps; ++t)
          w_flipped[(c * g.filters + k) * taps + taps - 1 - t] = w[(k * g.channels + c) * taps + t];
    for_pieces(pool, std::size_t(g.batch), images_per_piece(pool, g.batch),
               [&](std::size_t first, std::size_t count) {
                 fast::conv2d_forward(wrap_kernel(), nn::to_conv2d_shape(flipped, int(count)),
                                      dy + first * out_image, w_flipped.data(),
                                      {dx + first * in_image, nullptr}, {AccumulatorSpec{}, 0});
               });
  } else {
    for_pieces(pool, std::size_t(g.batch), images_per_piece(pool, g.batch),
               [&](std::size_t first, std::size_t count) {
                 fast::conv2d_backward_data(
                     wrap_kernel(), nn::to_conv2d_shape(g, int(count)), dy + first * out_image, w,
                     {dx + first * in_image, nullptr}, {AccumulatorSpec{}, 0});
               });
  }
  // Bound of output (n, c, ., .): sum over k, r, s of |w[k][c]| * max |dy[n]|.
  const std::size_t taps = std::size_t(g.kernel) * g.kernel;
  std::vector<std::int64_t> w_l1(std::size_t(g.channels), 0), dy_max(std::size_t(g.batch), 0);
  for (std::size_t k = 0; k < std::size_t(g.filters); ++k)
    for (std::size_t c = 0; c < w_l1.size(); ++c)
      w_l1[c] += norms(w + (k * w_l1.size() + c) * taps, taps).l1;
  for (std::size_t n = 0; n < dy_max.size(); ++n)
    dy_max[n] = norms(dy + n * out_image, out_image).max;
  ExactOutput exact(spec, stats);
  const int filters = padded_channels(g.filters);
  for (int n = 0; n < g.batch; ++n)
    for (int c = 0; c < g.channels; ++c) {
      if (w_l1[c] * dy_max[n] <= safe_limit(spec)) continue;
      const std::int8_t* grad = dy + n * out_image;
      for (int h = 0; h < g.height; ++h)
        for (int wc = 0; wc < g.width; ++wc) {
          // NITI convolves the error with the flipped kernel: taps (R-1-r, S-1-s) in order.
          for (int r = g.kernel - 1; r >= 0; --r)
            for (int s = g.kernel - 1; s >= 0; --s) {
              const int th = h + g.pad - r, tw = wc + g.pad - s;
              const int oh = th / g.stride, ow = tw / g.stride;
              const bool hit = th >= 0 && tw >= 0 && th % g.stride == 0 && tw % g.stride == 0 &&
                               oh < oh_count && ow < ow_count;
              for (int k = 0; k < filters; ++k) {
                const bool real = k < g.filters;
                exact.add(real && hit ? grad[k * out_plane + oh * ow_count + ow] : 0,
                          real ? w[((k * g.channels + c) * g.kernel + r) * g.kernel + s] : 0);
              }
            }
          dx[n * in_image + c * in_plane + h * g.width + wc] = exact.finish();
        }
    }
  apply_epilogue(spec, dx, g.batch * in_image, pool, stats);
}

void conv_weight_grad(const AccumulatorSpec& spec, const nn::ConvGeometry& g, const std::int8_t* x,
                      const std::int8_t* dy, std::int32_t* dw, nn::ThreadPool& pool,
                      AccumulationStats& stats) {
  const std::size_t in_plane = std::size_t(g.height) * g.width,
                    in_image = std::size_t(g.channels) * in_plane;
  const int oh_count = g.out_height(), ow_count = g.out_width();
  const std::size_t out_plane = std::size_t(oh_count) * ow_count,
                    out_image = std::size_t(g.filters) * out_plane;
  const std::size_t size = std::size_t(g.filters) * g.patch();
  // Each piece of images sums its own gradient; adding the pieces' int32 sums (wrapping) gives the
  // exact total wherever the bound below holds.
  const std::size_t piece = images_per_piece(pool, g.batch),
                    pieces = (std::size_t(g.batch) + piece - 1) / piece;
  std::vector<std::int32_t> partial(pieces * size);
  for_pieces(pool, std::size_t(g.batch), piece, [&](std::size_t first, std::size_t count) {
    fast::conv2d_weight_grad(
        wrap_kernel(), nn::to_conv2d_shape(g, int(count)), x + first * in_image, dy + first * out_image,
        {partial.data() + first / piece * size, nullptr}, {AccumulatorSpec{}, 0});
  });
  for (std::size_t i = 0; i < size; ++i) {
    std::uint32_t sum = 0;
    for (std::size_t piece = 0; piece < pieces; ++piece)
      sum += std::uint32_t(partial[piece * size + i]);
    dw[i] = std::int32_t(sum);
  }
  // Bound of output (k, c, ., .): min(sum |dy[., k]| * max |x[., c]|, max |dy[., k]| * sum
  // |x[., c]|), over the batch (each input pixel meets each output position at most once per tap).
  std::vector<std::int64_t> dy_l1(std::size_t(g.filters), 0), dy_max(dy_l1.size(), 0),
      x_l1(std::size_t(g.channels), 0), x_max(x_l1.size(), 0);
  for (std::size_t n = 0; n < std::size_t(g.batch); ++n)
    for (std::size_t k = 0; k < dy_l1.size(); ++k) {
      const Norms plane = norms(dy + n * out_image + k * out_plane, out_plane);
      dy_l1[k] += plane.l1;
      dy_max[k] = std::max(dy_max[k], plane.max);
    }
  for (std::size_t n = 0; n < std::size_t(g.batch); ++n)
    for (std::size_t c = 0; c < x_l1.size(); ++c) {
      const Norms plane = norms(x + n * in_image + c * in_plane, in_plane);
      x_l1[c] += plane.l1;
      x_max[c] = std::max(x_max[c], plane.max);
    }
  ExactOutput exact(spec, stats);
  const int batch = padded_channels(g.batch);  // NITI's weight gradient: the batch as channels
  for (int k = 0; k < g.filters; ++k)
    for (int c = 0; c < g.channels; ++c) {
      if (std::min(dy_l1[k] * x_max[c], dy_max[k] * x_l1[c]) <= safe_limit(spec)) continue;
      for (int r = 0; r < g.kernel; ++r)
        for (int s = 0; s < g.kernel; ++s) {
          for (int oh = 0; oh < oh_count; ++oh)
            for (int ow = 0; ow < ow_count; ++ow) {
              const int ih = oh * g.stride + r - g.pad, iw = ow * g.stride + s - g.pad;
              const bool inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width;
              for (int n = 0; n < batch; ++n) {
                const bool real = n < g.batch;
                exact.add(real && inside ? x[n * in_image + c * in_plane + ih * g.width + iw] : 0,
                          real ? dy[n * out_image + k * out_plane + oh * ow_count + ow] : 0);
              }
            }
          dw[((k * g.channels + c) * g.kernel + r) * g.kernel + s] = exact.finish();
        }
    }
  apply_epilogue(spec, dw, size, pool, stats);
}

void gemm(const AccumulatorSpec& spec, int m, int n, int k, const std::int8_t* a,
          const std::int8_t* b, std::int32_t* c, nn::ThreadPool& pool, AccumulationStats& stats) {
  for_pieces(pool, std::size_t(m), kRowsPerPiece, [&](std::size_t first, std::size_t count) {
    wrap_kernel().run(fast::contiguous_gemm(
        fast::ElementType::int8, int(count), n, k, a + std::ptrdiff_t(first) * k, b,
        c + std::ptrdiff_t(first) * n, nullptr, AccumulatorSpec{}));
  });
  // Bound of output (i, j): min(sum |a[i]| * max |b[., j]|, max |a[i]| * sum |b[., j]|).
  std::vector<std::int64_t> a_l1(std::size_t(m), 0), a_max(a_l1.size(), 0), b_l1(std::size_t(n), 0),
      b_max(b_l1.size(), 0);
  for (std::size_t i = 0; i < std::size_t(m); ++i) {
    const Norms row = norms(a + i * std::size_t(k), std::size_t(k));
    a_l1[i] = row.l1;
    a_max[i] = row.max;
  }
  for (std::size_t p = 0; p < std::size_t(k); ++p)
    for (std::size_t j = 0; j < std::size_t(n); ++j) {
      const std::int64_t v = b[p * std::size_t(n) + j];
      b_l1[j] += v < 0 ? -v : v;
      b_max[j] = std::max(b_max[j], v < 0 ? -v : v);
    }
  ExactOutput exact(spec, stats);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      if (std::min(a_l1[i] * b_max[j], a_max[i] * b_l1[j]) <= safe_limit(spec)) continue;
      for (int p = 0; p < k; ++p)
        exact.add(a[std::ptrdiff_t(i) * k + p], b[std::ptrdiff_t(p) * n + j]);
      c[std::ptrdiff_t(i) * n + j] = exact.finish();
    }
  apply_epilogue(spec, c, std::size_t(m) * n, pool, stats);
}

}  // namespace lpsim::schemes::niti
