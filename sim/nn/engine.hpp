// GEMM engines: what computes a convolution's or a fully connected layer's three products, with
// which arithmetic and accumulator. A scheme picks one per layer (fp32 on oneDNN or OpenBLAS
// here; an integer engine on fast/'s kernels reads the QTensors' codes and shared exponents
// instead of their float values, and holds its accumulator policy).
#pragma once
#include <memory>
#include <span>
#include <string>

#include "reference/gemm.hpp"
#include "sim/nn/quant.hpp"

namespace lpsim::nn {

class ThreadPool;

// A 2-D convolution with square kernels; a fully connected layer is the dense case: 1 x 1 input,
// 1 x 1 kernel, stride 1, no padding (activations N x C x 1 x 1, weights K x C x 1 x 1).
struct ConvGeometry {
  int batch = 1, channels = 1, height = 1, width = 1;  // input N, C, H, W
  int filters = 1, kernel = 1, stride = 1, pad = 0;    // K, R = S, stride, zero padding

  int out_height() const { return (height + 2 * pad - kernel) / stride + 1; }
  int out_width() const { return (width + 2 * pad - kernel) / stride + 1; }
  int patch() const { return channels * kernel * kernel; }  // C*R*S: one output's reduction
  bool is_dense() const {
    return height == 1 && width == 1 && kernel == 1 && stride == 1 && pad == 0;
  }
  bool is_pointwise() const { return kernel == 1 && stride == 1 && pad == 0; }
};

// The geometry as the kernels and the reference describe it, for `batch` images.
inline Conv2dShape to_conv2d_shape(const ConvGeometry& g, int batch) {
  return {.batch = batch,
          .channels = g.channels,
          .height = g.height,
          .width = g.width,
          .filters = g.filters,
          .kernel_h = g.kernel,
          .kernel_w = g.kernel,
          .stride = g.stride,
          .pad = g.pad};
}

// Activations NCHW, weights KCRS, all row-major floats (outputs overwritten). The inputs are
// already in the scheme's representation; an engine must not modify them.
class GemmEngine {
 public:
  virtual ~GemmEngine() = default;
  virtual std::string name() const = 0;  // recorded in the trace's /config

  // y (N x K x OH x OW) = x * w
  virtual void forward(const ConvGeometry& g, const QTensor& x, const QTensor& w,
                       std::span<float> y, ThreadPool& pool) const = 0;
  // dx (N x C x H x W): the gradient of the input, from dy (N x K x OH x OW) and w
  virtual void backward_data(const ConvGeometry& g, const QTensor& dy, const QTensor& w,
                             std::span<float> dx, ThreadPool& pool) const = 0;
  // dw (K x C x R x S) = the sum over images and output positions of dy times the input patch
  virtual void weight_grad(const ConvGeometry& g, const QTensor& x, const QTensor& dy,
                           std::span<float> dw, ThreadPool& pool) const = 0;
};

// fp32 inputs (the QTensors' values), fp32 products and sums: im2col + OpenBLAS sgemm.
// Forward and backward-data are parallel over images (dense: over fixed row tiles); the weight
// gradient over fixed tiles of its columns, each summing every image in batch order.
std::shared_ptr<const GemmEngine> openblas_engine();

// fp32 on oneDNN's direct convolutions, single-threaded per fixed piece: forward and
// backward-data per chunk of 16 images, the weight gradient per group of 32 filters (each one
// reduction over the whole batch). Dense layers, and the backward passes of convolutions with
// fewer than 4 input channels, go to openblas_engine().
std::shared_ptr<const GemmEngine> onednn_engine();

}  // namespace lpsim::nn
