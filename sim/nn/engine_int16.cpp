// The INT16 engine: fast::conv2d_* on DFP16 codes (see engine_int16.hpp).
#include "sim/nn/engine_int16.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "fast/conv.hpp"
#include "formats/syntax.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::nn {
namespace {

// The tensor's shared exponent; the engine computes on codes only.
int shared_exponent_of(const QTensor& t, const char* what) {
  if (t.codes.size() != t.values.size())
    throw std::invalid_argument(std::string("int16 engine: ") + what +
                                " has no int16 codes (QuantSpec::keep_codes with dfp16)");
  if (t.exponents.size() != 1)
    throw std::invalid_argument(std::string("int16 engine: ") + what +
                                " needs one shared exponent per tensor, has " +
                                std::to_string(t.exponents.size()));
  return t.exponents[0];
}

class Int16Engine final : public GemmEngine {
 public:
  explicit Int16Engine(const AccumulatorSpec& acc) : acc_(acc) {
    if (const std::string why = validate(acc); !why.empty())
      throw std::invalid_argument("int16 engine accumulator: " + why);
    if (acc.exact || acc.bits != 32)
      throw std::invalid_argument("int16 engine needs an int32 accumulator, not " + to_string(acc));
    // Fails here, not in the first step, when no kernel computes this policy.
    kernel_name_ = fast::select_kernel(fast::ElementType::int16, acc).name;
  }

  std::string name() const override { return "int16:" + to_string(acc_) + ":" + kernel_name_; }

  void forward(const ConvGeometry& g, const QTensor& x, const QTensor& w, std::span<float> y,
               ThreadPool& pool) const override {
    const int scale = shared_exponent_of(x, "input") + shared_exponent_of(w, "weights");
    per_chunk(g, scale, g.kernel * g.kernel, x.codes, std::size_t(g.channels) * g.height * g.width,
              y, std::size_t(g.filters) * g.out_height() * g.out_width(), pool,
              [&](const fast::Kernel& k, const Conv2dShape& s, const std::int16_t* in,
                  fast::ConvOutput out, const fast::ConvAccumulation& a) {
                fast::conv2d_forward(k, s, in, w.codes.data(), out, a);
              });
  }

  void backward_data(const ConvGeometry& g, const QTensor& dy, const QTensor& w,
                     std::span<float> dx, ThreadPool& pool) const override {
    const int scale = shared_exponent_of(dy, "output gradient") + shared_exponent_of(w, "weights");
    per_chunk(g, scale, g.kernel * g.kernel, dy.codes,
              std::size_t(g.filters) * g.out_height() * g.out_width(), dx,
              std::size_t(g.channels) * g.height * g.width, pool,
              [&](const fast::Kernel& k, const Conv2dShape& s, const std::int16_t* in,
                  fast::ConvOutput out, const fast::ConvAccumulation& a) {
                fast::conv2d_backward_data(k, s, in, w.codes.data(), out, a);
              });
  }

  void weight_grad(const ConvGeometry& g, const QTensor& x, const QTensor& dy, std::span<float> dw,
                   ThreadPool&) const override {
    const int scale = shared_exponent_of(x, "input") + shared_exponent_of(dy, "output gradient");
    const fast::ConvAccumulation a = accumulation(1, scale);
    const fast::Kernel& kernel = fast::select_kernel(fast::ElementType::int16, a.spec);
    run_to_fp32(a, dw, [&](fast::ConvOutput out) {
      fast::conv2d_weight_grad(kernel, to_conv2d_shape(g, g.batch), x.codes.data(), dy.codes.data(), out,
                               a);
    });
  }

 private:
  // The accumulation of a reduction whose channels hold `products_per_channel` products each.
  fast::ConvAccumulation accumulation(int products_per_channel, int scale_exp) const {
    fast::ConvAccumulation a{acc_, scale_exp};
    a.spec.flush_every *= products_per_channel;
    if (a.spec.flush_every > 0 && (scale_exp < -149 || scale_exp > 127))
      throw std::invalid_argument("int16 engine: chain scale 2^" + std::to_string(scale_exp) +
                                  " outside the flush kernels' range -149..127");
    return a;
  }

  // Runs `conv` into out (fp32): directly for a flushing accumulator, else through int32 results
  // converted to fp32 and scaled by 2^scale_exp.
  template <class Conv>
  static void run_to_fp32(const fast::ConvAccumulation& a, std::span<float> out, Conv&& conv) {
    if (a.spec.flush_every > 0) {
      conv(fast::ConvOutput{nullptr, out.data()});
      return;
    }
    std::vector<std::int32_t> integer(out.size());
    conv(fast::ConvOutput{integer.data(), nullptr});
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = std::ldexp(float(integer[i]), a.scale_exp);
  }

  // One convolution per chunk of images, one chunk per thread (forward, backward-data: each
  // image's outputs depend on it alone, so the bits do not depend on the chunking; fewer, larger
  // calls share fast/'s per-call lowering of the weights).
  template <class Conv>
  void per_chunk(const ConvGeometry& g, int scale_exp, int products_per_channel,
                 const std::vector<std::int16_t>& in, std::size_t in_per_image, std::span<float> out,
                 std::size_t out_per_image, ThreadPool& pool, Conv&& conv) const {
    const fast::ConvAccumulation a = accumulation(products_per_channel, scale_exp);
    const fast::Kernel& kernel = fast::select_kernel(fast::ElementType::int16, a.spec);
    const std::size_t chunks = std::min<std::size_t>(std::size_t(pool.threads()), g.batch);
    pool.parallel_for(chunks, [&](std::size_t i) {
      const std::size_t first = g.batch * i / chunks, last = g.batch * (i + 1) / chunks;
      run_to_fp32(a, out.subspan(first * out_per_image, (last - first) * out_per_image),
                  [&](fast::ConvOutput o) {
                    conv(kernel, to_conv2d_shape(g, int(last - first)), in.data() + first * in_per_image,
                         o, a);
                  });
    });
  }

  AccumulatorSpec acc_;
  std::string kernel_name_;
};

}  // namespace

std::shared_ptr<const GemmEngine> int16_engine(const AccumulatorSpec& acc) {
  return std::make_shared<const Int16Engine>(acc);
}

}  // namespace lpsim::nn
