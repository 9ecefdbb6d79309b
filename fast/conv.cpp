#include "fast/conv.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace lpsim::fast {

namespace {

// Per-thread scratch, reused from call to call (contents undefined: every lowering writes each
// element the GEMM reads). One buffer per (type, slot).
template <class T, int kSlot>
T* scratch(std::size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

// The `bytes` (kWidth to 2 kWidth) at `from` to `to` as two fixed-size, possibly overlapping moves.
template <std::size_t kWidth>
[[gnu::always_inline]] inline void two_moves(const unsigned char* from, std::size_t bytes,
                                             unsigned char* to) {
  std::memcpy(to, from, kWidth);
  std::memcpy(to + bytes - kWidth, from + bytes - kWidth, kWidth);
}

// Copies n elements exactly, up to 64 bytes with two fixed-size moves: lowering copies many short
// runs (a kernel row, an output row), where a library call per run would cost more than the copy.
template <class T>
[[gnu::always_inline]] inline void copy_run(const T* src, int n, T* dst) {
  const auto* from = reinterpret_cast<const unsigned char*>(src);
  auto* to = reinterpret_cast<unsigned char*>(dst);
  const std::size_t bytes = std::size_t(n) * sizeof(T);
  if (bytes > 64)
    std::memcpy(to, from, bytes);
  else if (bytes >= 32)
    two_moves<32>(from, bytes, to);
  else if (bytes >= 16)
    two_moves<16>(from, bytes, to);
  else if (bytes >= 8)
    two_moves<8>(from, bytes, to);
  else if (bytes >= 4)
    two_moves<4>(from, bytes, to);
  else if (bytes >= 2)
    two_moves<2>(from, bytes, to);
  else if (bytes == 1)
    *to = *from;
}

// The GEMM lowering of one convolution geometry; index math only, no arithmetic on values.
// Every lowering reads a zero-bordered copy of its image, so that each kernel row is one run.
struct Geometry {
  const Conv2dShape& s;
  int oh_count = s.out_height(), ow_count = s.out_width();
  int pixels = oh_count * ow_count;  // output pixels per image
  int plane = s.height * s.width;    // input pixels per image and channel
  int taps = s.kernel_h * s.kernel_w;
  int patch = s.channels * taps;  // forward k: (c, r, s)
  int depth = s.filters * taps;   // backward-data k: (k, r, s)
  std::ptrdiff_t image = std::ptrdiff_t(s.channels) * plane;
  std::ptrdiff_t out_image = std::ptrdiff_t(s.filters) * pixels;
  // A dense layer: its activations are already the GEMM's rows (no lowering).
  bool dense = s.height == 1 && s.width == 1 && taps == 1 && s.pad == 0;

  // x with `pad` zeros around each channel: (H + 2 pad) x (W + 2 pad) per channel.
  int padded_h = s.height + 2 * s.pad, padded_w = s.width + 2 * s.pad;
  std::ptrdiff_t padded_plane = std::ptrdiff_t(padded_h) * padded_w;

  // dy spread to the input's grid (stride - 1 zeros between outputs) with kernel - 1 - pad zeros
  // before and enough after: element (h + R-1 - r, w + S-1 - q) of channel k is the dy value
  // that tap (r, q) brings to input pixel (h, w), or 0.
  int spread_h = s.height + s.kernel_h - 1, spread_w = s.width + s.kernel_w - 1;
  std::ptrdiff_t spread_plane = std::ptrdiff_t(spread_h) * spread_w;

  // The lowerings below read every size into a local first: their stores go through byte
  // copies, which may alias anything, so members would be reloaded after each store.

  template <class T>
  const T* padded(const T* x_image) const {
    if (s.pad == 0) return x_image;
    const int channels = s.channels, height = s.height, width = s.width, pad = s.pad;
    const std::ptrdiff_t row = padded_w, plane_size = padded_plane;
    T* out = scratch<T, 3>(std::size_t(channels) * plane_size);
    std::fill_n(out, channels * plane_size, T(0));
    for (int c = 0; c < channels; ++c)
      for (int h = 0; h < height; ++h)
        copy_run(x_image + (std::ptrdiff_t(c) * height + h) * width, width,
                 out + c * plane_size + (h + pad) * row + pad);
    return out;
  }

  template <class T>
  const T* spread(const T* dy_image) const {
    const int filters = s.filters, stride = s.stride, rows = oh_count, cols = ow_count;
    const int spread_rows = spread_h;
    const std::ptrdiff_t row = spread_w, plane_size = spread_plane;
    const int top = s.kernel_h - 1 - s.pad, left = s.kernel_w - 1 - s.pad;
    // Outputs that fall outside (a padding wider than the kernel) reach no input pixel.
    const int first_ow = left >= 0 ? 0 : (-left + stride - 1) / stride;
    const int last_ow = std::min(cols, int(row - 1 - left) / stride + 1);
    T* out = scratch<T, 3>(std::size_t(filters) * plane_size);
    std::fill_n(out, filters * plane_size, T(0));
    for (int k = 0; k < filters; ++k)
      for (int oh = 0; oh < rows; ++oh) {
        const int h = oh * stride + top;
        if (h < 0 || h >= spread_rows || first_ow >= last_ow) continue;
        const T* src = dy_image + (std::ptrdiff_t(k) * rows + oh) * cols;
        T* dst = out + k * plane_size + h * row + left;
        if (stride == 1)
          copy_run(src + first_ow, last_ow - first_ow, dst + first_ow);
        else
          for (int ow = first_ow; ow < last_ow; ++ow) dst[ow * stride] = src[ow];
      }
    return out;
  }

  // im2col of one image: element ((c, r, q), (oh, ow)) of x, or 0 in the padding, at
  // out[row * ld + pixel]; rows are the forward k order.
  template <class T>
  void im2col(const T* x_image, T* out, std::ptrdiff_t ld) const {
    const T* x = padded(x_image);
    const int channels = s.channels, kh = s.kernel_h, kw = s.kernel_w, stride = s.stride;
    const int rows = oh_count, cols = ow_count;
    const std::ptrdiff_t x_row = padded_w, x_plane = padded_plane;
    for (int c = 0, row = 0; c < channels; ++c)
      for (int r = 0; r < kh; ++r)
        for (int q = 0; q < kw; ++q, ++row) {
          const T* src = x + c * x_plane + r * x_row + q;
          T* line = out + row * ld;
          for (int oh = 0; oh < rows; ++oh, line += cols) {
            const T* from = src + oh * stride * x_row;
            if (stride == 1)
              copy_run(from, cols, line);
            else
              for (int ow = 0; ow < cols; ++ow) line[ow] = from[ow * stride];
          }
        }
  }

  // The transpose of im2col, one output pixel per row: out[pixel * ld + (c, r, q)].
  template <class T>
  void im2row(const T* x_image, T* out, std::ptrdiff_t ld) const {
    const T* x = padded(x_image);
    const int channels = s.channels, kh = s.kernel_h, kw = s.kernel_w, stride = s.stride;
    const int rows = oh_count, cols = ow_count;
    const std::ptrdiff_t x_row = padded_w, x_plane = padded_plane;
    for (int oh = 0; oh < rows; ++oh)
      for (int ow = 0; ow < cols; ++ow) {
        T* dst = out + (std::ptrdiff_t(oh) * cols + ow) * ld;
        const T* src = x + oh * stride * x_row + ow * stride;
        for (int c = 0; c < channels; ++c, src += x_plane)
          for (int r = 0; r < kh; ++r, dst += kw) copy_run(src + r * x_row, kw, dst);
      }
  }

  // Backward-data's lowering of one image's output gradient: element ((k, r, q), (h, w)) is
  // dy[k][oh][ow] where oh * stride = h + pad - r and ow * stride = w + pad - q, or 0 when no
  // such output exists; at out[row * ld + h * W + w].
  template <class T>
  void col(const T* dy_image, T* out, std::ptrdiff_t ld) const {
    const T* d = spread(dy_image);
    const int filters = s.filters, kh = s.kernel_h, kw = s.kernel_w;
    const int height = s.height, width = s.width;
    const std::ptrdiff_t d_row = spread_w, d_plane = spread_plane;
    for (int k = 0, row = 0; k < filters; ++k)
      for (int r = 0; r < kh; ++r)
        for (int q = 0; q < kw; ++q, ++row) {
          const T* src = d + k * d_plane + (kh - 1 - r) * d_row + (kw - 1 - q);
          for (int h = 0; h < height; ++h)
            copy_run(src + h * d_row, width, out + row * ld + h * width);
        }
  }

  // The transpose of col, one input pixel per row: out[(h * W + w) * ld + (k, r, q)].
  template <class T>
  void col_rows(const T* dy_image, T* out, std::ptrdiff_t ld) const {
    const T* d = spread(dy_image);
    const int filters = s.filters, kh = s.kernel_h, kw = s.kernel_w;
    const int height = s.height, width = s.width;
    const std::ptrdiff_t d_row = spread_w, d_plane = spread_plane;
    for (int h = 0; h < height; ++h)
      for (int w = 0; w < width; ++w) {
        T* dst = out + (std::ptrdiff_t(h) * width + w) * ld;
        // tap (r, q) reads element (h + R-1 - r, w + S-1 - q): q runs backwards along the row
        const T* src = d + (h + kh - 1) * d_row + w + kw - 1;
        for (int k = 0; k < filters; ++k)
          for (int r = 0; r < kh; ++r) {
            const T* line = src + k * d_plane - r * d_row;
            for (int q = 0; q < kw; ++q) *dst++ = line[-q];
          }
      }
  }
};

void require(const Kernel& kernel, const Conv2dShape& shape, const ConvOutput& out,
             const ConvAccumulation& acc) {
  if (const std::string why = shape.validate(); !why.empty()) throw std::invalid_argument(why);
  if (acc.spec.flush_every > 0 ? out.fp32 == nullptr : out.integer == nullptr)
    throw std::invalid_argument(std::string(kernel.name) +
                                ": convolution output does not match the accumulator");
}

void run_gemm(const Kernel& kernel, int m, int n, int k, const void* a, std::ptrdiff_t lda,
              const void* b, ConvOutput out, std::ptrdiff_t out_offset,
              const ConvAccumulation& acc) {
  GemmCall call =
      contiguous_gemm(kernel.input, m, n, k, a, b, out.integer ? out.integer + out_offset : nullptr,
                      out.fp32 ? out.fp32 + out_offset : nullptr, acc.spec, acc.scale_exp);
  call.lda = lda;
  kernel.run(call);
}

// The share of a GEMM's microtiles that hold outputs: how well an m x n output suits the kernel.
double tile_use(const Kernel& kernel, int m, int n) {
  return double(m) * n / (double(round_up(m, kernel.tiling.mr)) * round_up(n, kernel.tiling.nr));
}

// Whether the batch-wide GEMM (pixels as rows) beats the per-image one (pixels as columns), both
// `m` x `n` per image as the per-image GEMM sees them. Lowering pixels to rows copies each kernel
// row separately (short runs), which the per-image lowering copies whole output rows; measured
// on lenet5 and vgg-small it pays off only when the microtiles it fills are at least a fifth
// fuller (or when a dense layer needs no lowering at all).
constexpr double kLoweringMargin = 1.2;

bool over_batch(const Kernel& kernel, bool dense, int images, int m, int n) {
  return dense || tile_use(kernel, images * n, m) >= kLoweringMargin * tile_use(kernel, m, n);
}

// out[dst] = rows[src] for a (groups * per_group) x cols row-major matrix whose row (g, i) and
// column j go to out[g * group_stride + i + j * col_stride].
template <class T>
void scatter_rows(const T* rows, int groups, int per_group, int cols, T* out,
                  std::ptrdiff_t group_stride, std::ptrdiff_t col_stride) {
  for (int g = 0; g < groups; ++g)
    for (int i = 0; i < per_group; ++i, rows += cols) {
      T* to = out + g * group_stride + i;
      for (int j = 0; j < cols; ++j) to[j * col_stride] = rows[j];
    }
}

// A GEMM whose rows are (image, pixel) and columns channels, written as NCHW: the GEMM runs into
// scratch (fp32 or int32, as `out` has it) and is scattered, or straight into `out` when each
// image has one pixel (then the GEMM's layout is NCHW already).
template <class Gemm>
void rows_to_nchw(int images, int pixels, int channels, ConvOutput out, Gemm&& gemm) {
  if (pixels == 1) return gemm(out);
  const std::size_t size = std::size_t(images) * pixels * channels;
  const std::ptrdiff_t image = std::ptrdiff_t(channels) * pixels;
  if (out.fp32) {
    float* tmp = scratch<float, 0>(size);
    gemm(ConvOutput{nullptr, tmp});
    scatter_rows(tmp, images, pixels, channels, out.fp32, image, pixels);
  } else {
    std::int32_t* tmp = scratch<std::int32_t, 0>(size);
    gemm(ConvOutput{tmp, nullptr});
    scatter_rows(tmp, images, pixels, channels, out.integer, image, pixels);
  }
}

// How many images' lowered rows (`bytes` each) to put in one GEMM: about 128 KiB, so that they
// are still in L2 when the GEMM reads them.
int images_per_group(int batch, std::size_t bytes) {
  constexpr std::size_t kGroupBytes = std::size_t{128} << 10;
  return int(std::clamp<std::size_t>(kGroupBytes / std::max<std::size_t>(bytes, 1), 1, batch));
}

ConvOutput offset(ConvOutput out, std::ptrdiff_t by) {
  return {out.integer ? out.integer + by : nullptr, out.fp32 ? out.fp32 + by : nullptr};
}

// out (N x channels x pixels) = rows (N*pixels x depth) . b (depth x channels), where
// `lower(n, rows)` writes image n's `pixels` rows, or `dense_rows` holds them all (a dense layer,
// one pixel per image). A group of images at a time, so that its rows are still in L2 when the
// GEMM reads them: rows are independent outputs.
template <class T, class Lower>
void gemm_over_batch(const Kernel& kernel, int batch, int pixels, int depth, int channels,
                     const T* dense_rows, Lower&& lower, const T* b, ConvOutput out,
                     const ConvAccumulation& acc) {
  const int group = images_per_group(batch, std::size_t(pixels) * depth * sizeof(T));
  for (int n0 = 0; n0 < batch; n0 += group) {
    const int images = std::min(group, batch - n0);
    const T* rows = dense_rows ? dense_rows + std::ptrdiff_t(n0) * depth : nullptr;
    if (!rows) {
      T* lowered = scratch<T, 1>(std::size_t(images) * pixels * depth);
      for (int i = 0; i < images; ++i) lower(n0 + i, lowered + std::ptrdiff_t(i) * pixels * depth);
      rows = lowered;
    }
    rows_to_nchw(images, pixels, channels, offset(out, std::ptrdiff_t(n0) * channels * pixels),
                 [&](ConvOutput part) {
                   run_gemm(kernel, images * pixels, channels, depth, rows, depth, b, part, 0, acc);
                 });
  }
}

// t[j][i] = m[i][j] for an m of `rows` x `cols`; 16-bit elements in 8 x 8 blocks of SSE2
// unpacks (baseline x86-64), the edges and other types one element at a time.
template <class T>
void transpose(const T* m, int rows, int cols, T* t) {
  int i0 = 0;
  if constexpr (sizeof(T) == 2)
    for (; i0 + 8 <= rows; i0 += 8) {
      int j0 = 0;
      for (; j0 + 8 <= cols; j0 += 8) {
        __m128i r[8];
        for (int i = 0; i < 8; ++i)
          r[i] = _mm_loadu_si128(
              reinterpret_cast<const __m128i*>(m + std::ptrdiff_t(i0 + i) * cols + j0));
        __m128i a[8], b[8];
        for (int i = 0; i < 4; ++i) {  // 16-bit pairs of rows (2i, 2i+1)
          a[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
          a[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
        }
        for (int i = 0; i < 2; ++i)  // 32-bit pairs of row pairs
          for (int h = 0; h < 2; ++h) {
            b[4 * i + 2 * h] = _mm_unpacklo_epi32(a[4 * i + h], a[4 * i + 2 + h]);
            b[4 * i + 2 * h + 1] = _mm_unpackhi_epi32(a[4 * i + h], a[4 * i + 2 + h]);
          }
        for (int j = 0; j < 4; ++j) {  // 64-bit halves: output rows j0 + 2j, j0 + 2j + 1
          const __m128i lo = _mm_unpacklo_epi64(b[j], b[4 + j]);
          const __m128i hi = _mm_unpackhi_epi64(b[j], b[4 + j]);
          _mm_storeu_si128(reinterpret_cast<__m128i*>(t + std::ptrdiff_t(j0 + 2 * j) * rows + i0),
                           lo);
          _mm_storeu_si128(
              reinterpret_cast<__m128i*>(t + std::ptrdiff_t(j0 + 2 * j + 1) * rows + i0), hi);
        }
      }
      for (int i = i0; i < i0 + 8; ++i)
        for (int j = j0; j < cols; ++j)
          t[std::ptrdiff_t(j) * rows + i] = m[std::ptrdiff_t(i) * cols + j];
    }
  for (int i = i0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      t[std::ptrdiff_t(j) * rows + i] = m[std::ptrdiff_t(i) * cols + j];
}

// Calls f with the kernel's element type as a typed null pointer.
template <class F>
void with_element(const Kernel& kernel, F f) {
  if (kernel.input == ElementType::int16)
    f(static_cast<const std::int16_t*>(nullptr));
  else
    f(static_cast<const std::int8_t*>(nullptr));
}

// Backward-data when the accumulator wraps and its chains (if any) hold whole filters: a chain's
// int32 total is then the same for any order of its products, so each chain is one GEMM per
// image, partial (w^T (C*R*S x filters) . dy[n] (filters x OH*OW)), whose int32 sums are added
// into their input pixels (col2im) and then flushed as the kernel flushes them:
// out = fma(float(total), 2^scale_exp, out) in chain order. The lowered operand is C*R*S x OH*OW
// rather than K*R*S x H*W.
bool col2im_computes(const Conv2dShape& shape, const AccumulatorSpec& spec) {
  const int taps = shape.kernel_h * shape.kernel_w;
  return spec.overflow == AccOverflow::wrap && spec.bits == 32 && !spec.fp32_epilogue &&
         spec.flush_every % taps == 0 && shape.channels < shape.filters;
}

template <class T>
void backward_data_col2im(const Kernel& kernel, const Geometry& g, const T* grad, const T* weights,
                          ConvOutput dx, const ConvAccumulation& acc) {
  const Conv2dShape& s = g.s;
  const int flush_every = acc.spec.flush_every;
  const int chain_filters = flush_every > 0 ? flush_every / g.taps : s.filters;
  const float scale = std::ldexp(1.0f, acc.scale_exp);
  // The same products without chains: int32 sums modulo 2^32.
  const Kernel& wrapping = flush_every > 0 ? select_kernel(kernel.input, {}, kernel.isa) : kernel;
  T* wt = scratch<T, 2>(std::size_t(g.patch) * s.filters);  // wt[(c, r, q)][k] = w[k][c][r][q]
  transpose(weights, s.filters, g.patch, wt);
  std::int32_t* cols = scratch<std::int32_t, 1>(std::size_t(g.patch) * g.pixels);
  std::uint32_t* sums = scratch<std::uint32_t, 2>(g.image);
  for (int n = 0; n < s.batch; ++n)
    for (int k0 = 0; k0 < s.filters; k0 += chain_filters) {
      const int filters = std::min(chain_filters, s.filters - k0);
      run_gemm(wrapping, g.patch, g.pixels, filters, wt + k0, s.filters,
               grad + n * g.out_image + std::ptrdiff_t(k0) * g.pixels, {cols, nullptr}, 0,
               {AccumulatorSpec{}, 0});
      std::fill_n(sums, g.image, 0u);
      // sizes as locals: the uint32 stores may alias the shape's ints
      const int channels = s.channels, kh = s.kernel_h, kw = s.kernel_w, stride = s.stride;
      const int pad = s.pad, height = s.height, width = s.width;
      const int rows = g.oh_count, cols_per_row = g.ow_count, pixels = g.pixels, plane = g.plane;
      for (int c = 0, t = 0; c < channels; ++c)
        for (int r = 0; r < kh; ++r)
          for (int q = 0; q < kw; ++q, ++t) {
            // the outputs whose input column ow * stride + q - pad lies in [0, W)
            const int first = std::max(0, (pad - q + stride - 1) / stride);
            const int last = std::min(cols_per_row, (width + pad - q + stride - 1) / stride);
            for (int oh = 0; oh < rows; ++oh) {
              const int h = oh * stride + r - pad;
              if (h < 0 || h >= height) continue;
              const std::int32_t* from = cols + std::ptrdiff_t(t) * pixels + oh * cols_per_row;
              std::uint32_t* to = sums + std::ptrdiff_t(c) * plane + h * width + q - pad;
              if (stride == 1)
                for (int ow = first; ow < last; ++ow) to[ow] += std::uint32_t(from[ow]);
              else
                for (int ow = first; ow < last; ++ow) to[ow * stride] += std::uint32_t(from[ow]);
            }
          }
      const std::ptrdiff_t at = n * g.image;
      if (!dx.fp32) {
        for (std::ptrdiff_t i = 0; i < g.image; ++i) dx.integer[at + i] = std::int32_t(sums[i]);
      } else if (k0 == 0) {  // fma(x, scale, +0) rounds x * scale once, as the product does
        for (std::ptrdiff_t i = 0; i < g.image; ++i)
          dx.fp32[at + i] = float(std::int32_t(sums[i])) * scale;
      } else {
        for (std::ptrdiff_t i = 0; i < g.image; ++i)
          dx.fp32[at + i] = std::fma(float(std::int32_t(sums[i])), scale, dx.fp32[at + i]);
      }
    }
}

}  // namespace

// Each pass is one of two GEMMs with the same dots (same products, same k order), whichever
// fills the kernel's microtiles better: per image, filters x pixels; or over the whole batch,
// pixels x filters (the activations as rows, which a dense layer already is).
void conv2d_forward(const Kernel& kernel, const Conv2dShape& shape, const void* x, const void* w,
                    ConvOutput y, const ConvAccumulation& acc) {
  require(kernel, shape, y, acc);
  with_element(kernel, [&]<class T>(const T*) {
    const Geometry g{shape};
    const auto* input = static_cast<const T*>(x);
    const auto* weights = static_cast<const T*>(w);
    if (!over_batch(kernel, g.dense, shape.batch, shape.filters, g.pixels)) {
      // y[n] (K x OH*OW) = w (K x C*R*S) . im2col(x[n]) (C*R*S x OH*OW)
      T* col = scratch<T, 1>(std::size_t(g.patch) * g.pixels);
      for (int n = 0; n < shape.batch; ++n) {
        g.im2col(input + n * g.image, col, g.pixels);
        run_gemm(kernel, shape.filters, g.pixels, g.patch, w, g.patch, col, y, n * g.out_image,
                 acc);
      }
      return;
    }
    // y^T (N*OH*OW x K) = im2row(x) (N*OH*OW x C*R*S) . w^T (C*R*S x K)
    T* wt = scratch<T, 2>(std::size_t(g.patch) * shape.filters);
    transpose(weights, shape.filters, g.patch, wt);
    gemm_over_batch(
        kernel, shape.batch, g.pixels, g.patch, shape.filters, g.dense ? input : nullptr,
        [&](int n, T* rows) { g.im2row(input + n * g.image, rows, g.patch); }, wt, y, acc);
  });
}

void conv2d_backward_data(const Kernel& kernel, const Conv2dShape& shape, const void* dy,
                          const void* w, ConvOutput dx, const ConvAccumulation& acc) {
  require(kernel, shape, dx, acc);
  with_element(kernel, [&]<class T>(const T*) {
    const Geometry g{shape};
    const auto* weights = static_cast<const T*>(w);
    const auto* grad = static_cast<const T*>(dy);
    if (col2im_computes(shape, acc.spec))
      return backward_data_col2im(kernel, g, grad, weights, dx, acc);
    if (!over_batch(kernel, g.dense, shape.batch, shape.channels, g.plane)) {
      // dx[n] (C x H*W) = w' (C x K*R*S) . col(dy[n]) (K*R*S x H*W), w'[c][(k, r, s)] =
      // w[k][c][r][s]
      T* wt = scratch<T, 2>(std::size_t(shape.channels) * g.depth);
      for (int k = 0; k < shape.filters; ++k)
        for (int c = 0; c < shape.channels; ++c)
          copy_run(weights + (std::ptrdiff_t(k) * shape.channels + c) * g.taps, g.taps,
                   wt + std::ptrdiff_t(c) * g.depth + k * g.taps);
      T* col = scratch<T, 1>(std::size_t(g.depth) * g.plane);
      for (int n = 0; n < shape.batch; ++n) {
        g.col(grad + n * g.out_image, col, g.plane);
        run_gemm(kernel, shape.channels, g.plane, g.depth, wt, g.depth, col, dx, n * g.image, acc);
      }
      return;
    }
    // dx^T (N*H*W x C) = col(dy)^T (N*H*W x K*R*S) . w'' (K*R*S x C), w''[(k, r, s)][c] =
    // w[k][c][r][s]
    const T* w2 = weights;  // one tap: w itself
    if (g.taps > 1) {
      T* reordered = scratch<T, 2>(std::size_t(g.depth) * shape.channels);
      for (int k = 0; k < shape.filters; ++k)  // each filter's (c, t) block transposed to (t, c)
        transpose(weights + std::ptrdiff_t(k) * shape.channels * g.taps, shape.channels, g.taps,
                  reordered + std::ptrdiff_t(k) * g.taps * shape.channels);
      w2 = reordered;
    }
    gemm_over_batch(
        kernel, shape.batch, g.plane, g.depth, shape.channels, g.dense ? grad : nullptr,
        [&](int n, T* rows) { g.col_rows(grad + n * g.out_image, rows, g.depth); }, w2, dx, acc);
  });
}

void conv2d_weight_grad(const Kernel& kernel, const Conv2dShape& shape, const void* x,
                        const void* dy, ConvOutput dw, const ConvAccumulation& acc) {
  require(kernel, shape, dw, acc);
  with_element(kernel, [&]<class T>(const T*) {
    const Geometry g{shape};
    const int depth = shape.batch * g.pixels;  // k: (n, oh, ow)
    const auto* input = static_cast<const T*>(x);
    const auto* grad = static_cast<const T*>(dy);
    // Filters as rows lowers the input to one pixel per row (short runs), like over_batch().
    const bool filters_as_rows =
        g.dense || tile_use(kernel, shape.filters, g.patch) >=
                       kLoweringMargin * tile_use(kernel, g.patch, shape.filters);
    if (!filters_as_rows) {
      // dw^T (C*R*S x K) = im2col(x) (C*R*S x N*OH*OW) . dy^T (N*OH*OW x K), then transposed
      T* a = scratch<T, 1>(std::size_t(g.patch) * depth);
      for (int n = 0; n < shape.batch; ++n)
        g.im2col(input + n * g.image, a + std::ptrdiff_t(n) * g.pixels, depth);
      T* b = scratch<T, 2>(std::size_t(depth) * shape.filters);  // b[(n, oh, ow)][k]
      for (int n = 0; n < shape.batch; ++n)
        transpose(grad + n * g.out_image, shape.filters, g.pixels,
                  b + std::ptrdiff_t(n) * g.pixels * shape.filters);
      auto gemm = [&](ConvOutput out) {
        run_gemm(kernel, g.patch, shape.filters, depth, a, depth, b, out, 0, acc);
      };
      // dw^T as 1 image of C*R*S pixels and K channels: its NCHW is K x C*R*S
      rows_to_nchw(1, g.patch, shape.filters, dw, gemm);
      return;
    }
    // dw (K x C*R*S) = dy (K x N*OH*OW) . im2row(x) (N*OH*OW x C*R*S)
    T* a = scratch<T, 1>(std::size_t(shape.filters) * depth);  // a[k][(n, oh, ow)]
    for (int n = 0; n < shape.batch; ++n)
      for (int k = 0; k < shape.filters; ++k)
        copy_run(grad + n * g.out_image + std::ptrdiff_t(k) * g.pixels, g.pixels,
                 a + std::ptrdiff_t(k) * depth + std::ptrdiff_t(n) * g.pixels);
    const T* rows_of_x = input;
    if (!g.dense) {
      T* lowered = scratch<T, 2>(std::size_t(depth) * g.patch);
      for (int n = 0; n < shape.batch; ++n)
        g.im2row(input + n * g.image, lowered + std::ptrdiff_t(n) * g.pixels * g.patch, g.patch);
      rows_of_x = lowered;
    }
    run_gemm(kernel, shape.filters, g.patch, depth, a, depth, rows_of_x, dw, 0, acc);
  });
}

}  // namespace lpsim::fast
