#include "sim/schemes/niti/network.hpp"

#include <algorithm>
#include <stdexcept>

#include "formats/rounding.hpp"
#include "sim/nn/random.hpp"
#include "sim/schemes/niti/float_boundary.hpp"
#include "sim/schemes/niti/pieces.hpp"

namespace lpsim::schemes::niti {

namespace {

// Each step's dropout draws start at a fresh index block (as the float learner's, 2^36 per step).
constexpr int kStepIndexShift = 36;
constexpr std::size_t kPlanesPerPiece = 64;  // pooling runs in pieces of 64 channel planes

// ---- window geometry

// Conv2d and MaxPool2d keep kernel, stride and padding private; output_dims is their one public
// window arithmetic, so the window is the unique one that gives the same output sides for input
// sides 1..64 (accessors are requested from the lead).
struct Window {
  int kernel = 1, stride = 1, pad = 0;
};

int observed_side(const nn::Layer& layer, std::size_t channels, std::size_t side) {
  try {
    return int(layer.output_dims({1, channels, side, side}).h);
  } catch (const std::invalid_argument&) {
    return -1;
  }
}

template <class Expected>
Window unique_window(const nn::Layer& layer, std::size_t channels, int kernel_first,
                     int kernel_last, int max_pad, Expected expected) {
  constexpr int kSides = 64, kMaxStride = 16;
  std::vector<int> seen(kSides + 1);
  for (int side = 1; side <= kSides; ++side) seen[side] = observed_side(layer, channels, side);
  std::vector<Window> matches;
  for (int kernel = kernel_first; kernel <= kernel_last; ++kernel)
    for (int stride = 1; stride <= kMaxStride; ++stride)
      for (int pad = 0; pad <= max_pad; ++pad) {
        const Window w{kernel, stride, pad};
        bool all = true;
        for (int side = 1; side <= kSides && all; ++side) all = seen[side] == expected(w, side);
        if (all) matches.push_back(w);
      }
  if (matches.size() != 1)
    throw std::logic_error("niti-int8: cannot tell the window of " + layer.name());
  return matches[0];
}

Window conv_window(const nn::Conv2d& conv) {
  const nn::Dims& w = conv.weight.value.dims;  // K x C x R x S
  if (conv.kind() == nn::LayerKind::linear) return {};
  const int kernel = int(w.h);
  return unique_window(conv, w.c, kernel, kernel, 64, [&](const Window& x, int side) {
    const nn::ConvGeometry g{1, int(w.c), side, side, int(w.n), x.kernel, x.stride, x.pad};
    return g.out_height() >= 1 ? g.out_height() : -1;
  });
}

Window pool_window(const nn::Layer& pool) {
  return unique_window(pool, 1, 1, 16, 0, [](const Window& x, int side) {
    return side < x.kernel ? -1 : (side - x.kernel) / x.stride + 1;
  });
}

// value-preserving copy with new dimensions
void reshape(const IntTensor& from, IntTensor& to, const nn::Dims& dims) {
  to.dims = dims;
  to.codes = from.codes;
  to.exponent = from.exponent;
}

// ---- element loops (what they read as arguments: stores through int8_t* may alias anything
// reachable through a pointer, locals excepted)

void relu(const std::int8_t* in, std::int8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = in[i] > 0 ? in[i] : 0;
}

void relu_backward(const std::int8_t* in, const std::int8_t* grad, std::int8_t* out,
                   std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int8_t g = grad[i];  // loaded unconditionally, so the loop vectorises
    out[i] = in[i] > 0 ? g : 0;
  }
}

// `planes` planes of `in` (its h x w) pooled by `w` (kernel <= stride); the first maximum wins.
void max_pool(Window w, nn::Dims in, const std::int8_t* x, std::int8_t* y, std::uint32_t* argmax,
              std::size_t planes) {
  const std::size_t k = std::size_t(w.kernel), s = std::size_t(w.stride);
  const std::size_t out_h = (in.h - k) / s + 1, out_w = (in.w - k) / s + 1;
  for (std::size_t plane = 0; plane < planes; ++plane, x += in.plane())
    for (std::size_t oy = 0; oy < out_h; ++oy)
      for (std::size_t ox = 0; ox < out_w; ++ox) {
        std::size_t best = oy * s * in.w + ox * s;
        std::int8_t largest = x[best];
        for (std::size_t r = 0; r < k; ++r)
          for (std::size_t c = 0; c < k; ++c) {
            const std::size_t at = (oy * s + r) * in.w + ox * s + c;
            const bool above = x[at] > largest;  // selects, not branches: ties are common
            best = above ? at : best;
            largest = above ? x[at] : largest;
          }
        *y++ = largest;
        *argmax++ = std::uint32_t(best);
      }
}

// Each output's error to its window's maximum (windows do not overlap); dx is zero elsewhere.
void unpool(const std::int8_t* dy, const std::uint32_t* argmax, std::size_t out_plane,
            std::int8_t* dx, std::size_t in_plane, std::size_t planes) {
  for (std::size_t plane = 0; plane < planes; ++plane, dx += in_plane)
    for (std::size_t o = 0; o < out_plane; ++o, ++dy, ++argmax) dx[*argmax] = *dy;
}

// W = int8_clip(W - g) (NITI computes it in int16).
UpdateStats step_weights(std::int8_t* weights, const std::int8_t* grad, std::size_t n) {
  std::int64_t changed = 0, clipped = 0, pinned = 0;
  int largest = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int v = int(weights[i]) - int(grad[i]);
    const std::int8_t w = clip_int8(v);
    changed += grad[i] != 0;
    clipped += w != v;
    pinned += w == 127 || w == -127;
    largest = std::max(largest, w < 0 ? -int(w) : int(w));
    weights[i] = w;
  }
  return {.changed = changed, .clipped = clipped, .pinned = pinned, .max_magnitude = largest};
}

// ---- layers

class GemmLayer final : public IntLayer {
 public:
  GemmLayer(const nn::Conv2d& source, const NetworkOptions& options)
      : IntLayer(source.name()),
        linear_(source.kind() == nn::LayerKind::linear),
        window_(conv_window(source)),
        options_(options),
        dims_(source.weight.value.dims),
        weights_(dims_.size()) {
    report_.layer = name();
    report_.weight_exponent = niti_float::weight_quant(source.weight.value.data, weights_);
  }

  const GemmReport& report() const { return report_; }
  const std::vector<std::int8_t>& weights() const { return weights_; }
  std::string describe_product() const {
    if (linear_) return "int8 linear, " + to_string(options_.linear_acc);
    const std::string kernel = std::to_string(window_.kernel);
    std::string text = "int8 conv ";
    text.append(kernel).append("x").append(kernel);
    text.append(" stride ").append(std::to_string(window_.stride));
    text.append(" pad ").append(std::to_string(window_.pad));
    return text.append(", ").append(to_string(options_.conv_acc));
  }

  void forward(const IntTensor& x, IntTensor& y, const PassState& state) override {
    const nn::ConvGeometry g = geometry(x.dims);
    acc_.resize(std::size_t(g.batch) * g.filters * g.out_height() * g.out_width());
    AccumulationStats products;
    if (linear_) {
      transposed_.resize(weights_.size());  // W^T: features x outputs
      for (int k = 0; k < g.filters; ++k)
        for (int c = 0; c < g.channels; ++c)
          transposed_[std::size_t(c) * g.filters + k] = weights_[std::size_t(k) * g.channels + c];
      gemm(options_.linear_acc, g.batch, g.filters, g.channels, x.codes.data(), transposed_.data(),
           acc_.data(), state.pool, products);
    } else {
      conv_forward(options_.conv_acc, g, x.codes.data(), weights_.data(), acc_.data(), state.pool,
                   products);
    }
    y.dims = {x.dims.n, std::size_t(g.filters), std::size_t(g.out_height()),
              std::size_t(g.out_width())};
    y.codes.resize(acc_.size());
    report_.activation =
        requantize(acc_, y.codes, 7, options_.widen_single_shift, activation_rule(), state.pool);
    report_.activation.products = products;
    report_.activation.source_exponent = x.exponent + report_.weight_exponent;
    y.exponent = report_.activation.exponent =
        report_.activation.source_exponent + report_.activation.shift;
    report_.error.reset();
    report_.gradient.reset();
  }

  void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx,
                const PassState& state) override {
    const nn::ConvGeometry g = geometry(x.dims);
    if (dx) back_propagate(g, dy, *dx, state);
    // g32 = x^T dy, then grad_calc with the step's mu.
    AccumulationStats products;
    acc_.resize(weights_.size());
    if (linear_) {
      transposed_.resize(dy.codes.size());  // dy^T: outputs x batch
      for (int n = 0; n < g.batch; ++n)
        for (int k = 0; k < g.filters; ++k)
          transposed_[std::size_t(k) * g.batch + n] = dy.codes[std::size_t(n) * g.filters + k];
      gemm(options_.linear_acc, g.filters, g.channels, g.batch, transposed_.data(), x.codes.data(),
           acc_.data(), state.pool, products);
    } else {
      conv_weight_grad(options_.conv_acc, g, x.codes.data(), dy.codes.data(), acc_.data(),
                       state.pool, products);
    }
    grad_.resize(weights_.size());
    Requantization r = requantize(
        acc_, grad_, state.mu, false,
        {.rounding = ShiftRounding::psto_shift, .division = options_.division}, state.pool);
    r.products = products;
    r.source_exponent = dy.exponent + x.exponent;
    r.exponent = r.source_exponent + r.shift;
    report_.gradient = r;
    report_.mu = state.mu;
    update(state.pool);
  }

 private:
  nn::ConvGeometry geometry(const nn::Dims& in) const {
    if (in.c != dims_.c || (linear_ && in.plane() != 1))
      throw std::invalid_argument(name() + ": expects " + std::to_string(dims_.c) +
                                  " channels, got " + nn::to_string(in));
    return {int(in.n),    int(in.c),      int(in.h),      int(in.w),
            int(dims_.n), window_.kernel, window_.stride, window_.pad};
  }

  // act_calc's and err_calc's
  ShiftRule activation_rule() const {
    return {.rounding = options_.rounding, .division = options_.division};
  }

  // err_calc of dy * W^T, with the weights before this step's update.
  void back_propagate(const nn::ConvGeometry& g, const IntTensor& dy, IntTensor& dx,
                      const PassState& state) {
    AccumulationStats products;
    acc_.resize(std::size_t(g.batch) * g.channels * g.height * g.width);
    if (linear_)
      gemm(options_.linear_acc, g.batch, g.channels, g.filters, dy.codes.data(), weights_.data(),
           acc_.data(), state.pool, products);
    else
      conv_backward_data(options_.conv_acc, g, dy.codes.data(), weights_.data(), acc_.data(),
                         state.pool, products);
    dx.dims = {std::size_t(g.batch), std::size_t(g.channels), std::size_t(g.height),
               std::size_t(g.width)};
    dx.codes.resize(acc_.size());
    Requantization r =
        requantize(acc_, dx.codes, 7, options_.widen_single_shift, activation_rule(), state.pool);
    r.products = products;
    r.source_exponent = dy.exponent + report_.weight_exponent;
    dx.exponent = r.exponent = r.source_exponent + r.shift;
    report_.error = r;
  }

  void update(nn::ThreadPool& pool) {
    UpdateStats& total = report_.update;
    total = {.elements = std::int64_t(weights_.size())};
    for (const UpdateStats& u : map_pieces<UpdateStats>(
             pool, weights_.size(), kElementsPerPiece, [&](std::size_t first, std::size_t n) {
               return step_weights(&weights_[first], &grad_[first], n);
             })) {
      total.changed += u.changed;
      total.clipped += u.clipped;
      total.pinned += u.pinned;
      total.max_magnitude = std::max(total.max_magnitude, u.max_magnitude);
    }
  }

  bool linear_;
  Window window_;
  NetworkOptions options_;
  nn::Dims dims_;                     // of the weights: K x C x R x S
  std::vector<std::int8_t> weights_;  // K x C x R x S
  std::vector<std::int8_t> grad_, transposed_;
  std::vector<std::int32_t> acc_;
  GemmReport report_;
};

class Relu final : public IntLayer {
 public:
  using IntLayer::IntLayer;
  void forward(const IntTensor& x, IntTensor& y, const PassState& state) override {
    y.dims = x.dims;
    y.exponent = x.exponent;
    y.codes.resize(x.codes.size());
    for_pieces(
        state.pool, x.codes.size(), kElementsPerPiece,
        [&](std::size_t first, std::size_t n) { relu(&x.codes[first], &y.codes[first], n); });
  }
  void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx,
                const PassState& state) override {
    if (!dx) return;
    dx->dims = x.dims;
    dx->exponent = dy.exponent;
    dx->codes.resize(x.codes.size());
    for_pieces(state.pool, x.codes.size(), kElementsPerPiece,
               [&](std::size_t first, std::size_t n) {
                 relu_backward(&x.codes[first], &dy.codes[first], &dx->codes[first], n);
               });
  }
};

class MaxPool final : public IntLayer {
 public:
  explicit MaxPool(const nn::Layer& source)
      : IntLayer(source.name()), window_(pool_window(source)) {
    if (window_.kernel > window_.stride)
      throw std::invalid_argument(
          "niti-int8: " + name() + " has overlapping windows (" + std::to_string(window_.kernel) +
          "x" + std::to_string(window_.kernel) + ", stride " + std::to_string(window_.stride) +
          "), which NITI's pooling does not have");
  }
  void forward(const IntTensor& x, IntTensor& y, const PassState& state) override {
    const nn::Dims& in = x.dims;
    const std::size_t k = std::size_t(window_.kernel), s = std::size_t(window_.stride);
    y.dims = {in.n, in.c, (in.h - k) / s + 1, (in.w - k) / s + 1};
    y.exponent = x.exponent;
    y.codes.resize(y.dims.size());
    argmax_.resize(y.codes.size());
    for_pieces(state.pool, in.n * in.c, kPlanesPerPiece, [&](std::size_t first, std::size_t n) {
      max_pool(window_, in, &x.codes[first * in.plane()], &y.codes[first * y.dims.plane()],
               &argmax_[first * y.dims.plane()], n);
    });
  }
  void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx,
                const PassState& state) override {
    if (!dx) return;
    const nn::Dims& in = x.dims;
    dx->dims = in;
    dx->exponent = dy.exponent;
    dx->codes.assign(in.size(), 0);
    const std::size_t out_plane = dy.dims.plane();
    for_pieces(state.pool, in.n * in.c, kPlanesPerPiece, [&](std::size_t first, std::size_t n) {
      unpool(&dy.codes[first * out_plane], &argmax_[first * out_plane], out_plane,
             &dx->codes[first * in.plane()], in.plane(), n);
    });
  }

 private:
  Window window_;
  std::vector<std::uint32_t> argmax_;  // per output: its maximum's index in the input plane
};

class Flatten final : public IntLayer {
 public:
  using IntLayer::IntLayer;
  void forward(const IntTensor& x, IntTensor& y, const PassState&) override {
    reshape(x, y, {x.dims.n, x.dims.sample(), 1, 1});
  }
  void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx, const PassState&) override {
    if (dx) reshape(dy, *dx, x.dims);
  }
};

class Dropout final : public IntLayer {
 public:
  using IntLayer::IntLayer;
  void forward(const IntTensor& x, IntTensor& y, const PassState& state) override {
    if (!state.training) {
      reshape(x, y, x.dims);
      return;
    }
    const std::size_t features = x.dims.sample();
    // torch.randint(0, 2) per feature: one random bit, a function of (seed, layer, step, feature).
    const RoundingSpec random{.mode = Rounding::stochastic,
                              .random_bits = 1,
                              .seed = state.seed,
                              .stream = std::uint32_t(nn::name_hash(name()))};
    keep_.resize(features);
    for (std::size_t f = 0; f < features; ++f)
      keep_[f] = std::uint8_t(stochastic_random(random, (state.step << kStepIndexShift) + f));
    y.dims = x.dims;
    y.exponent = x.exponent + 1;
    y.codes.resize(x.codes.size());
    for (std::size_t i = 0; i < x.codes.size(); ++i)
      y.codes[i] = keep_[i % features] ? x.codes[i] : 0;
  }
  void backward(const IntTensor& x, const IntTensor& dy, IntTensor* dx, const PassState&) override {
    if (!dx) return;
    dx->dims = x.dims;
    dx->exponent = dy.exponent;  // as NITI: the error's exponent is not raised
    dx->codes.resize(dy.codes.size());
    const std::size_t features = keep_.size();
    for (std::size_t i = 0; i < dy.codes.size(); ++i)
      dx->codes[i] = keep_[i % features] ? dy.codes[i] : 0;
  }

 private:
  std::vector<std::uint8_t> keep_;
};

std::string reject(const nn::Model& model, const nn::Layer& layer, const std::string& what) {
  return "niti-int8: model " + model.name + " has " + what + " (" + layer.name() +
         "), which NITI's integer network does not have (lenet5 and mlp have none)";
}

// Residual blocks hide inside the leaves' order: look for them in the containers.
void reject_residuals(const nn::Model& model, const nn::Sequential& net) {
  for (const auto& child : net.layers()) {
    if (child->kind() == nn::LayerKind::residual)
      throw std::invalid_argument(reject(model, *child, "a residual block"));
    if (const auto* inner = dynamic_cast<const nn::Sequential*>(child.get()))
      reject_residuals(model, *inner);
  }
}

}  // namespace

std::unique_ptr<IntLayer> make_layer(const nn::Layer& layer, const nn::Model& model,
                                     const NetworkOptions& options) {
  switch (layer.kind()) {
    case nn::LayerKind::conv:
    case nn::LayerKind::linear:
      return std::make_unique<GemmLayer>(dynamic_cast<const nn::Conv2d&>(layer), options);
    case nn::LayerKind::relu:
      return std::make_unique<Relu>(layer.name());
    case nn::LayerKind::maxpool:
      return std::make_unique<MaxPool>(layer);
    case nn::LayerKind::flatten:
      return std::make_unique<Flatten>(layer.name());
    case nn::LayerKind::dropout:
      return std::make_unique<Dropout>(layer.name());
    case nn::LayerKind::batchnorm:
      throw std::invalid_argument(reject(model, layer, "batch norm"));
    default:
      throw std::invalid_argument(
          reject(model, layer, "a " + std::string(nn::to_string(layer.kind())) + " layer"));
  }
}

Network::Network(const nn::Model& model, const NetworkOptions& options) {
  reject_residuals(model, *model.net);
  bool seen_gemm = false;
  for (const nn::Layer* layer : model.leaves()) {
    const bool gemm =
        layer->kind() == nn::LayerKind::conv || layer->kind() == nn::LayerKind::linear;
    if (gemm && !seen_gemm) first_gemm_ = layers_.size();
    seen_gemm = seen_gemm || gemm;
    layers_.push_back(make_layer(*layer, model, options));
  }
  if (!seen_gemm) throw std::invalid_argument("niti-int8: model " + model.name + " has no weights");
  activations_.resize(layers_.size() + 1);
}

Network::~Network() = default;

const IntTensor& Network::forward(IntTensor input, const PassState& state) {
  activations_[0] = std::move(input);
  for (std::size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->forward(activations_[i], activations_[i + 1], state);
  return activations_.back();
}

void Network::backward(IntTensor logits_error, const PassState& state) {
  errors_[0] = std::move(logits_error);
  int current = 0;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    IntTensor* dx = i > first_gemm_ ? &errors_[1 - current] : nullptr;
    layers_[i]->backward(activations_[i], errors_[current], dx, state);
    if (dx) current = 1 - current;
  }
}

std::vector<GemmReport> Network::reports() const {
  std::vector<GemmReport> out;
  for (const auto& layer : layers_)
    if (const auto* gemm = dynamic_cast<const GemmLayer*>(layer.get()))
      out.push_back(gemm->report());
  return out;
}

std::vector<std::pair<std::string, std::string>> Network::config() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const auto* gemm = dynamic_cast<const GemmLayer*>(layers_[i].get());
    if (!gemm) continue;
    const std::string prefix = "scheme." + gemm->name() + ".";
    out.emplace_back(prefix + "engine", gemm->describe_product());
    out.emplace_back(prefix + "weight_exponent", std::to_string(gemm->report().weight_exponent));
    if (i == first_gemm_) out.emplace_back(prefix + "E", "none (NITI's first layer)");
  }
  return out;
}

std::vector<const std::vector<std::int8_t>*> Network::weights() const {
  std::vector<const std::vector<std::int8_t>*> out;
  for (const auto& layer : layers_)
    if (const auto* gemm = dynamic_cast<const GemmLayer*>(layer.get()))
      out.push_back(&gemm->weights());
  return out;
}

namespace {

std::uint32_t max_magnitude(const std::int32_t* acc, std::size_t n) {
  std::int32_t m = 0;  // signed, so that the loop vectorises with SSE2's compares
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::int32_t(range_magnitude(acc[i])));
  return std::uint32_t(m);
}

std::uint32_t max_magnitude(std::span<const std::int32_t> acc, nn::ThreadPool& pool) {
  std::uint32_t largest = 0;
  for (std::uint32_t m : map_pieces<std::uint32_t>(
           pool, acc.size(), kElementsPerPiece,
           [&](std::size_t first, std::size_t n) { return max_magnitude(&acc[first], n); }))
    largest = std::max(largest, m);
  return largest;
}

// Counts of one piece (at most kElementsPerPiece elements).
struct PieceCounts {
  std::int32_t clipped = 0, wrapped = 0, inexact = 0, flushed_to_zero = 0, zero = 0;
};

PieceCounts cast_piece(const std::int32_t* acc, std::int8_t* out, std::size_t n) {
  std::int32_t wrapped = 0, flushed = 0, zero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int8_t code = wrap_int8(acc[i]);
    wrapped += code != acc[i];
    flushed += acc[i] != 0 && code == 0;
    zero += code == 0;
    out[i] = code;
  }
  return {.wrapped = wrapped, .flushed_to_zero = flushed, .zero = zero};
}

// out[i] = int8_clip(round(acc[i], first + i)), computing in T.
template <class T, class Round>
PieceCounts round_piece(const std::int32_t* acc, std::int8_t* out, std::size_t n, int shift,
                        std::size_t first, Round round) {
  const T dropped = (T{1} << shift) - 1;
  std::int32_t clipped = 0, inexact = 0, flushed = 0, zero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T a = acc[i];
    const T v = round(a, first + i);
    const std::int8_t code = clip_int8(v);
    clipped += code != v;
    inexact += (a & dropped) != 0;
    flushed += a != 0 && code == 0;
    zero += code == 0;
    out[i] = code;
  }
  return {.clipped = clipped, .inexact = inexact, .flushed_to_zero = flushed, .zero = zero};
}

template <class T>
PieceCounts round_piece(const std::int32_t* acc, std::int8_t* out, std::size_t n, int shift,
                        std::size_t first, const ShiftRule& rule) {
  const Division division = rule.division;
  switch (rule.rounding) {
    case ShiftRounding::round_shift:
      return round_piece<T>(acc, out, n, shift, first,
                            [=](T a, std::size_t) { return round_shift(a, shift, division); });
    case ShiftRounding::psto_shift:
      return round_piece<T>(acc, out, n, shift, first,
                            [=](T a, std::size_t) { return psto_shift(a, shift, division); });
    case ShiftRounding::sto_shift:
      break;
  }
  const RoundingSpec random = rule.random;
  const std::uint64_t first_index = rule.first_index;
  return round_piece<T>(acc, out, n, shift, first, [=](T a, std::size_t i) {
    return sto_shift(a, shift, stochastic_random(random, first_index + i), division);
  });
}

// shift_to_int8 with the maximum known.
Requantization convert(std::span<const std::int32_t> acc, std::span<std::int8_t> out, int shift,
                       std::uint32_t largest, const ShiftRule& rule, nn::ThreadPool& pool) {
  Requantization r;
  r.elements = std::int64_t(acc.size());
  r.max_magnitude = largest;
  r.bits = range_bits(largest);
  r.shift = std::max(shift, 0);
  const int s = r.shift;
  const auto pieces = map_pieces<PieceCounts>(
      pool, acc.size(), kElementsPerPiece, [&](std::size_t first, std::size_t n) {
        if (s == 0) return cast_piece(&acc[first], &out[first], n);
        if (s <= 30) return round_piece<std::int32_t>(&acc[first], &out[first], n, s, first, rule);
        return round_piece<std::int64_t>(&acc[first], &out[first], n, s, first, rule);
      });
  for (const PieceCounts& p : pieces) {
    r.clipped += p.clipped;
    r.wrapped += p.wrapped;
    r.inexact += p.inexact;
    r.flushed_to_zero += p.flushed_to_zero;
    r.zero += p.zero;
  }
  return r;
}

}  // namespace

Requantization shift_to_int8(std::span<const std::int32_t> acc, std::span<std::int8_t> out,
                             int shift, const ShiftRule& rule, nn::ThreadPool& pool) {
  return convert(acc, out, shift, max_magnitude(acc, pool), rule, pool);
}

Requantization requantize(std::span<const std::int32_t> acc, std::span<std::int8_t> out,
                          int target_bits, bool widen_single_shift, const ShiftRule& rule,
                          nn::ThreadPool& pool) {
  const std::uint32_t largest = max_magnitude(acc, pool);
  int shift = range_bits(largest) - target_bits;
  if (widen_single_shift && shift == 1) shift = 2;
  return convert(acc, out, shift, largest, rule, pool);
}

}  // namespace lpsim::schemes::niti
