// The GEMM layers of lpsim's models as the training engines see them (sim/nn/engine.hpp), and the
// sizes of a layer's three tensors, for the engine benchmarks (bench_train_conv,
// bench_int16_engine). Header-only: each benchmark is one translation unit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/nn/engine.hpp"
#include "sim/nn/random.hpp"

namespace lpsim::bench {

struct LayerShape {
  const char* name;
  nn::ConvGeometry g;  // fields in order: batch, channels, height, width, filters, kernel, stride, pad
};

// lenet5 on 28 x 28 inputs, batch 64.
inline constexpr LayerShape kLenet5Layers[] = {
    {"lenet5.conv1", {64, 1, 28, 28, 6, 5, 1, 2}},  {"lenet5.conv2", {64, 6, 14, 14, 16, 5, 1, 0}},
    {"lenet5.fc1", {64, 400, 1, 1, 120, 1, 1, 0}},  {"lenet5.fc2", {64, 120, 1, 1, 84, 1, 1, 0}},
    {"lenet5.fc3", {64, 84, 1, 1, 10, 1, 1, 0}},
};
// vgg-small on 3 x 32 x 32 inputs, batch 64.
inline constexpr LayerShape kVggSmallLayers[] = {
    {"vgg-small.conv1", {64, 3, 32, 32, 32, 3, 1, 1}},
    {"vgg-small.conv2", {64, 32, 32, 32, 32, 3, 1, 1}},
    {"vgg-small.conv3", {64, 32, 16, 16, 64, 3, 1, 1}},
    {"vgg-small.conv4", {64, 64, 16, 16, 64, 3, 1, 1}},
    {"vgg-small.conv5", {64, 64, 8, 8, 128, 3, 1, 1}},
    {"vgg-small.fc1", {64, 2048, 1, 1, 256, 1, 1, 0}},
};
// resnet20's distinct convolutions on 32 x 32 inputs, batch 128: the three stages' 3x3 convs and
// the first stride-2 one.
inline constexpr LayerShape kResnet20Convs[] = {
    {"resnet20.s1", {128, 16, 32, 32, 16, 3, 1, 1}},
    {"resnet20.s2", {128, 32, 16, 16, 32, 3, 1, 1}},
    {"resnet20.s3", {128, 64, 8, 8, 64, 3, 1, 1}},
    {"resnet20.s2b1.conv1", {128, 16, 32, 32, 32, 3, 2, 1}},
};

// A training pass of a GEMM layer, and the tensor it writes.
enum class Pass : int { forward, backward_data, weight_grad };
inline constexpr const char* kPassNames[] = {"forward", "backward_data", "weight_grad"};

inline std::size_t input_elements(const nn::ConvGeometry& g) {
  return std::size_t(g.batch) * g.channels * g.height * g.width;
}
inline std::size_t weight_elements(const nn::ConvGeometry& g) {
  return std::size_t(g.filters) * g.patch();
}
inline std::size_t output_elements(const nn::ConvGeometry& g) {
  return std::size_t(g.batch) * g.filters * g.out_height() * g.out_width();
}
inline std::size_t written_elements(const nn::ConvGeometry& g, Pass pass) {
  return pass == Pass::forward         ? output_elements(g)
         : pass == Pass::backward_data ? input_elements(g)
                                       : weight_elements(g);
}
// 2 per multiply-accumulate of the layer (N*K*OH*OW*C*R*S, padding taps included), every pass.
inline double layer_ops(const nn::ConvGeometry& g) {
  return 2.0 * double(output_elements(g)) * g.patch();
}

// Uniform values in [-1, 1), the same for the same (n, stream).
inline std::vector<float> uniform_floats(std::size_t n, std::uint64_t stream) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 2.0f * nn::unit_uniform(3, stream, i) - 1.0f;
  return v;
}

}  // namespace lpsim::bench
