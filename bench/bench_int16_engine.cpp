// dfp16's int16 engine (sim/nn/engine_int16.hpp, Das' chains of 256 channels) against the fp32
// scheme's default engine (oneDNN; OpenBLAS for dense layers), pass by pass on the GEMM layers of
// lenet5 (batch 64, 28 x 28 input) and vgg-small (batch 64, 3 x 32 x 32), plus the DFP16
// conversion of each operand (sim/nn/quant.hpp convert: max, exponent, codes, values, counts).
// One thread, CPU time:
//   taskset -c 1 bench_int16_engine --benchmark_repetitions=5 --benchmark_report_aggregates_only
// BM_Pass/LAYER/WRITTEN/ENGINE: LAYER indexes kLayers, WRITTEN the tensor the pass writes (0 input:
// backward-data, 1 weights: weight-gradient, 2 output: forward), ENGINE 0 fp32, 1 int16; the
// label names all three. OPS counts 2 per multiply-accumulate of the layer (N*K*OH*OW*C*R*S).
#include <benchmark/benchmark.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "formats/syntax.hpp"
#include "sim/nn/engine.hpp"
#include "sim/nn/engine_int16.hpp"
#include "sim/nn/random.hpp"
#include "sim/nn/thread_pool.hpp"

namespace {

using lpsim::nn::ConvGeometry;

// The GEMM layers as the engines see them at batch 64. ConvGeometry fields in order: batch,
// channels, height, width, filters, kernel, stride, pad.
const std::pair<const char*, ConvGeometry> kLayers[] = {
    {"lenet5.conv1", {64, 1, 28, 28, 6, 5, 1, 2}},
    {"lenet5.conv2", {64, 6, 14, 14, 16, 5, 1, 0}},
    {"lenet5.fc1", {64, 400, 1, 1, 120, 1, 1, 0}},
    {"lenet5.fc2", {64, 120, 1, 1, 84, 1, 1, 0}},
    {"lenet5.fc3", {64, 84, 1, 1, 10, 1, 1, 0}},
    {"vgg-small.conv1", {64, 3, 32, 32, 32, 3, 1, 1}},
    {"vgg-small.conv2", {64, 32, 32, 32, 32, 3, 1, 1}},
    {"vgg-small.conv3", {64, 32, 16, 16, 64, 3, 1, 1}},
    {"vgg-small.conv4", {64, 64, 16, 16, 64, 3, 1, 1}},
    {"vgg-small.conv5", {64, 64, 8, 8, 128, 3, 1, 1}},
    {"vgg-small.fc1", {64, 2048, 1, 1, 256, 1, 1, 0}},
};

// A layer's tensors: the pass that writes each one reads the other two.
enum Operand { kInput, kWeights, kOutput };
constexpr const char* kOperandNames[] = {"input", "weights", "dy"};
constexpr const char* kPassWriting[] = {"backward_data", "weight_grad", "forward"};

std::size_t elements(const ConvGeometry& g, Operand which) {
  switch (which) {
    case kInput:
      return std::size_t(g.batch) * g.channels * g.height * g.width;
    case kWeights:
      return std::size_t(g.filters) * g.patch();
    case kOutput:
      break;
  }
  return std::size_t(g.batch) * g.filters * g.out_height() * g.out_width();
}

lpsim::nn::QuantSpec dfp16() {
  lpsim::nn::QuantSpec spec;
  spec.format = lpsim::parse_format("dfp16");
  spec.keep_codes = true;
  return spec;
}

// Uniform values in [-1, 1); with codes and a shared exponent when `spec` says so.
lpsim::nn::QTensor operand(std::size_t n, std::uint64_t stream, const lpsim::nn::QuantSpec& spec,
                           lpsim::nn::ThreadPool& pool) {
  lpsim::nn::QTensor t;
  t.values.data.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    t.values.data[i] = 2.0f * lpsim::nn::unit_uniform(3, stream, i) - 1.0f;
  lpsim::nn::convert(spec, t, {.pool = pool}, nullptr);
  return t;
}

// One pass, identified by the tensor it writes.
void BM_Pass(benchmark::State& state) {
  const auto& [name, g] = kLayers[state.range(0)];
  const auto written = Operand(state.range(1));
  const bool int16 = state.range(2) == 1;
  lpsim::nn::ThreadPool pool(1);
  const auto engine =
      int16 ? lpsim::nn::int16_engine(lpsim::parse_accumulator("acc:int32:wrap:flush=256"))
            : lpsim::nn::onednn_engine();
  const lpsim::nn::QuantSpec spec = int16 ? dfp16() : lpsim::nn::QuantSpec{};
  const auto x = operand(elements(g, kInput), 1, spec, pool),
             w = operand(elements(g, kWeights), 2, spec, pool),
             dy = operand(elements(g, kOutput), 3, spec, pool);
  std::vector<float> out(elements(g, written));
  for (auto _ : state) {
    if (written == kOutput) engine->forward(g, x, w, out, pool);
    if (written == kInput) engine->backward_data(g, dy, w, out, pool);
    if (written == kWeights) engine->weight_grad(g, x, dy, out, pool);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(name) + " " + kPassWriting[written] + " " + engine->name());
  state.counters["OPS"] = benchmark::Counter(2.0 * double(elements(g, kOutput)) * g.patch(),
                                             benchmark::Counter::kIsIterationInvariantRate,
                                             benchmark::Counter::kIs1000);
}

// The DFP16 conversion of one operand of a layer, in place: after the first, each conversion finds
// DFP16 values and does the same work on them.
void BM_Convert(benchmark::State& state) {
  const auto& [name, g] = kLayers[state.range(0)];
  const auto which = Operand(state.range(1));
  lpsim::nn::ThreadPool pool(1);
  const std::size_t n = elements(g, which);
  lpsim::nn::QTensor t = operand(n, 4, {}, pool);
  const lpsim::nn::QuantSpec spec = dfp16();
  lpsim::nn::TensorStats stats;
  for (auto _ : state) {
    lpsim::nn::convert(spec, t, {.pool = pool}, &stats);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(name) + " " + kOperandNames[which]);
  state.counters["elements"] = benchmark::Counter(
      double(n), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void every_layer(benchmark::internal::Benchmark* b, bool both_engines) {
  for (int layer = 0; layer < int(std::size(kLayers)); ++layer)
    for (int which = 0; which < 3; ++which)
      for (int int16 = both_engines ? 0 : 1; int16 < 2; ++int16) b->Args({layer, which, int16});
}

BENCHMARK(BM_Pass)->Apply([](auto* b) { every_layer(b, true); }) -> Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Convert)
    ->Apply([](auto* b) { every_layer(b, false); }) -> Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
