// lpsim's fp32 training engines (sim/nn/engine.hpp: im2col + OpenBLAS, and oneDNN run on fixed
// pieces) against oneDNN's fp32 convolutions called directly on the whole batch, on the
// convolution shapes of lenet5 (28 x 28) and resnet20 (32 x 32), for the three passes of
// training. The direct calls take their operands in oneDNN's preferred layouts; lpsim's engines
// include their reorders from and to NCHW. One thread, CPU time:
//   taskset -c 1 bench_train_conv --benchmark_counters_tabular=true
// OPS counts 2 operations per multiply-accumulate of the convolution (padding taps excluded from
// neither side: both count N*K*OH*OW*C*R*S).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "bench/layer_shapes.hpp"
#include "sim/nn/engine.hpp"
#include "sim/nn/thread_pool.hpp"

namespace {

using lpsim::bench::LayerShape;
using lpsim::bench::Pass;
using lpsim::nn::ConvGeometry;

// lenet5's convolutions, then resnet20's.
const LayerShape kShapes[] = {lpsim::bench::kLenet5Layers[0], lpsim::bench::kLenet5Layers[1],
                              lpsim::bench::kResnet20Convs[0], lpsim::bench::kResnet20Convs[1],
                              lpsim::bench::kResnet20Convs[2], lpsim::bench::kResnet20Convs[3]};

void label(benchmark::State& state, const LayerShape& s, Pass pass, const std::string& extra = "") {
  state.SetLabel(std::string(s.name) + " " + lpsim::bench::kPassNames[int(pass)] +
                 (extra.empty() ? "" : " " + extra));
  state.counters["OPS"] =
      benchmark::Counter(lpsim::bench::layer_ops(s.g), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

lpsim::nn::QTensor qtensor(std::size_t n, std::uint64_t stream) {
  lpsim::nn::QTensor t;
  t.values.data = lpsim::bench::uniform_floats(n, stream);
  return t;
}

void BM_Lpsim(benchmark::State& state) {
  const LayerShape& s = kShapes[state.range(0)];
  const Pass pass = Pass(state.range(1));
  const ConvGeometry& g = s.g;
  lpsim::nn::ThreadPool pool(1);
  const auto& engine =
      state.range(2) == 0 ? *lpsim::nn::openblas_engine() : *lpsim::nn::onednn_engine();
  const auto x = qtensor(lpsim::bench::input_elements(g), 1),
             w = qtensor(lpsim::bench::weight_elements(g), 2),
             dy = qtensor(lpsim::bench::output_elements(g), 3);
  std::vector<float> out(lpsim::bench::written_elements(g, pass));
  for (auto _ : state) {
    if (pass == Pass::forward) engine.forward(g, x, w, out, pool);
    if (pass == Pass::backward_data) engine.backward_data(g, dy, w, out, pool);
    if (pass == Pass::weight_grad) engine.weight_grad(g, x, dy, out, pool);
    benchmark::ClobberMemory();
  }
  label(state, s, pass, engine.name());
}

void BM_Dnnl(benchmark::State& state) {
  using namespace dnnl;
  omp_set_num_threads(1);
  const LayerShape& s = kShapes[state.range(0)];
  const Pass pass = Pass(state.range(1));
  const ConvGeometry& g = s.g;
  using tag = memory::format_tag;
  const memory::dims src_dims{g.batch, g.channels, g.height, g.width},
      weight_dims{g.filters, g.channels, g.kernel, g.kernel},
      dst_dims{g.batch, g.filters, g.out_height(), g.out_width()}, strides{g.stride, g.stride},
      padding{g.pad, g.pad};
  engine cpu(engine::kind::cpu, 0);
  stream strm(cpu);
  const auto any = [](const memory::dims& d) {
    return memory::desc(d, memory::data_type::f32, tag::any);
  };
  const convolution_forward::desc fwd_desc(
      prop_kind::forward_training, algorithm::convolution_direct, any(src_dims), any(weight_dims),
      any(dst_dims), strides, padding, padding);
  const convolution_forward::primitive_desc fwd_pd(fwd_desc, cpu);
  // Operands in oneDNN's preferred layouts (reorders excluded from the timing).
  auto filled = [&](const memory::desc& d, std::uint64_t stream) {
    memory m(d, cpu);
    const std::vector<float> v = lpsim::bench::uniform_floats(d.get_size() / sizeof(float), stream);
    std::copy(v.begin(), v.end(), static_cast<float*>(m.get_data_handle()));
    return m;
  };
  std::string impl;
  if (pass == Pass::forward) {
    memory src = filled(fwd_pd.src_desc(), 1), weights = filled(fwd_pd.weights_desc(), 2),
           dst(fwd_pd.dst_desc(), cpu);
    convolution_forward conv(fwd_pd);
    impl = fwd_pd.impl_info_str();
    for (auto _ : state) {
      conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
      strm.wait();
    }
  } else if (pass == Pass::backward_data) {
    const convolution_backward_data::desc desc(algorithm::convolution_direct, any(src_dims),
                                               any(weight_dims), any(dst_dims), strides, padding,
                                               padding);
    const convolution_backward_data::primitive_desc pd(desc, cpu, fwd_pd);
    memory diff_dst = filled(pd.diff_dst_desc(), 3), weights = filled(pd.weights_desc(), 2),
           diff_src(pd.diff_src_desc(), cpu);
    convolution_backward_data conv(pd);
    impl = pd.impl_info_str();
    for (auto _ : state) {
      conv.execute(strm, {{DNNL_ARG_DIFF_DST, diff_dst},
                          {DNNL_ARG_WEIGHTS, weights},
                          {DNNL_ARG_DIFF_SRC, diff_src}});
      strm.wait();
    }
  } else {
    const convolution_backward_weights::desc desc(algorithm::convolution_direct, any(src_dims),
                                                  any(weight_dims), any(dst_dims), strides, padding,
                                                  padding);
    const convolution_backward_weights::primitive_desc pd(desc, cpu, fwd_pd);
    memory src = filled(pd.src_desc(), 1), diff_dst = filled(pd.diff_dst_desc(), 3),
           diff_weights(pd.diff_weights_desc(), cpu);
    convolution_backward_weights conv(pd);
    impl = pd.impl_info_str();
    for (auto _ : state) {
      conv.execute(strm, {{DNNL_ARG_SRC, src},
                          {DNNL_ARG_DIFF_DST, diff_dst},
                          {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
      strm.wait();
    }
  }
  label(state, s, pass, impl);
}

void all_shapes(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < int(std::size(kShapes)); ++shape)
    for (int pass = 0; pass < 3; ++pass) b->Args({shape, pass});
}

void all_shapes_and_engines(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < int(std::size(kShapes)); ++shape)
    for (int pass = 0; pass < 3; ++pass)
      for (int engine = 0; engine < 2; ++engine) b->Args({shape, pass, engine});
}

BENCHMARK(BM_Lpsim)->Apply(all_shapes_and_engines)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Dnnl)->Apply(all_shapes)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
