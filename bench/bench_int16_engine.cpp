// dfp16's int16 engine (sim/nn/engine_int16.hpp, Das' chains of 256 channels) against the fp32
// scheme's default engine (oneDNN; OpenBLAS for dense layers), pass by pass on the GEMM layers of
// lenet5 (batch 64, 28 x 28 input) and vgg-small (batch 64, 3 x 32 x 32), plus the DFP16
// conversion of each operand (sim/nn/quant.hpp convert: max, exponent, codes, values, counts).
// One thread, CPU time:
//   taskset -c 1 bench_int16_engine --benchmark_repetitions=5 --benchmark_report_aggregates_only
// BM_Pass/LAYER/PASS/ENGINE: LAYER indexes kLayers, PASS 0 forward, 1 backward-data, 2
// weight-gradient, ENGINE 0 fp32, 1 int16; the label names all three. OPS counts 2 per multiply-accumulate of the layer (N*K*OH*OW*C*R*S).
#include <benchmark/benchmark.h>

#include <iterator>
#include <string>
#include <vector>

#include "bench/layer_shapes.hpp"
#include "formats/syntax.hpp"
#include "sim/nn/engine.hpp"
#include "sim/nn/engine_int16.hpp"
#include "sim/nn/thread_pool.hpp"

namespace {

using lpsim::bench::LayerShape;
using lpsim::bench::Pass;

// lenet5's GEMM layers, then vgg-small's.
const LayerShape kLayers[] = {
    lpsim::bench::kLenet5Layers[0],   lpsim::bench::kLenet5Layers[1],
    lpsim::bench::kLenet5Layers[2],   lpsim::bench::kLenet5Layers[3],
    lpsim::bench::kLenet5Layers[4],   lpsim::bench::kVggSmallLayers[0],
    lpsim::bench::kVggSmallLayers[1], lpsim::bench::kVggSmallLayers[2],
    lpsim::bench::kVggSmallLayers[3], lpsim::bench::kVggSmallLayers[4],
    lpsim::bench::kVggSmallLayers[5],
};
// The operand the size of the tensor each pass writes: forward's output (dy), backward-data's
// input, the weight gradient's weights.
constexpr const char* kOperandNames[] = {"dy", "input", "weights"};

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
  t.values.data = lpsim::bench::uniform_floats(n, stream);
  lpsim::nn::convert(spec, t, {.pool = pool}, nullptr);
  return t;
}

void BM_Pass(benchmark::State& state) {
  const auto& [name, g] = kLayers[state.range(0)];
  const auto pass = Pass(state.range(1));
  const bool int16 = state.range(2) == 1;
  lpsim::nn::ThreadPool pool(1);
  const auto engine =
      int16 ? lpsim::nn::int16_engine(lpsim::parse_accumulator("acc:int32:wrap:flush=256"))
            : lpsim::nn::onednn_engine();
  const lpsim::nn::QuantSpec spec = int16 ? dfp16() : lpsim::nn::QuantSpec{};
  const auto x = operand(lpsim::bench::input_elements(g), 1, spec, pool),
             w = operand(lpsim::bench::weight_elements(g), 2, spec, pool),
             dy = operand(lpsim::bench::output_elements(g), 3, spec, pool);
  std::vector<float> out(lpsim::bench::written_elements(g, pass));
  for (auto _ : state) {
    if (pass == Pass::forward) engine->forward(g, x, w, out, pool);
    if (pass == Pass::backward_data) engine->backward_data(g, dy, w, out, pool);
    if (pass == Pass::weight_grad) engine->weight_grad(g, x, dy, out, pool);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(name) + " " + lpsim::bench::kPassNames[int(pass)] + " " +
                 engine->name());
  state.counters["OPS"] = benchmark::Counter(lpsim::bench::layer_ops(g),
                                             benchmark::Counter::kIsIterationInvariantRate,
                                             benchmark::Counter::kIs1000);
}

// The DFP16 conversion of one tensor of a layer (named by the pass that writes it), in place:
// after the first, each conversion finds DFP16 values and does the same work on them.
void BM_Convert(benchmark::State& state) {
  const auto& [name, g] = kLayers[state.range(0)];
  const auto written_by = Pass(state.range(1));
  lpsim::nn::ThreadPool pool(1);
  const std::size_t n = lpsim::bench::written_elements(g, written_by);
  lpsim::nn::QTensor t = operand(n, 4, {}, pool);
  const lpsim::nn::QuantSpec spec = dfp16();
  lpsim::nn::TensorStats stats;
  for (auto _ : state) {
    lpsim::nn::convert(spec, t, {.pool = pool}, &stats);
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(name) + " " + kOperandNames[int(written_by)]);
  state.counters["elements"] = benchmark::Counter(
      double(n), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void every_layer(benchmark::internal::Benchmark* b, bool both_engines) {
  for (int layer = 0; layer < int(std::size(kLayers)); ++layer)
    for (int pass = 0; pass < 3; ++pass)
      for (int int16 = both_engines ? 0 : 1; int16 < 2; ++int16) b->Args({layer, pass, int16});
}

BENCHMARK(BM_Pass)->Apply([](auto* b) { every_layer(b, true); }) -> Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Convert)
    ->Apply([](auto* b) { every_layer(b, false); }) -> Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
