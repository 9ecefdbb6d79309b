// Training-step throughput of each scheme on the same model: what `lpsim train` reports as
// images/s, without data loading, evaluation or the trace file. Each benchmark builds the model
// and the scheme's learner as the trainer does, then trains on a fixed cycle of batches (so the
// weights, exponents and gradients move as in a run); every 10th step records tensor statistics,
// as `lpsim train`'s default --record-every does. One thread, CPU time:
//   taskset -c 1 bench_train_step --benchmark_repetitions=5 --benchmark_report_aggregates_only
// lenet5 trains on the first batches of Fashion-MNIST (skipped when the files are missing),
// vgg-small on lpsim's synthetic 3x32x32 set.
#include <benchmark/benchmark.h>

#include <exception>
#include <map>
#include <string>
#include <vector>

#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scheme.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/float_learner.hpp"

namespace {

using namespace lpsim;

constexpr std::size_t kBatch = 64, kBatchesInCycle = 16;
constexpr int kRecordEvery = 10;

class DiscardRecorder final : public nn::Recorder {
 public:
  void record(const std::string&, const std::string&, const nn::TensorStats&) override {}
};

void train_steps(benchmark::State& state, const std::string& model_name,
                 const std::string& data_name, const std::string& scheme_name) {
  // Loaded once: google benchmark calls this function several times per benchmark.
  static std::map<std::string, data::Split> loaded;
  if (!loaded.contains(data_name)) try {
      loaded[data_name] =
          train::load_data(train::parse_data_spec(data_name), kBatch * kBatchesInCycle, 1);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  const data::Dataset& set = loaded[data_name].train;
  constexpr std::uint64_t kSeed = 1;
  nn::Model model = nn::build_model(
      model_name, {1, set.shape.channels, set.shape.height, set.shape.width}, set.classes, kSeed);
  const auto scheme = schemes::make_scheme(scheme_name, {}, kSeed);
  const auto learner = train::make_float_learner(
      *scheme, {.model = model, .sgd = {.momentum = 0.9f, .weight_decay = 5e-4f}, .seed = kSeed});
  nn::ThreadPool pool(1);
  DiscardRecorder recorder;

  const std::size_t image_size = set.shape.size();
  nn::Tensor images;
  images.resize({kBatch, set.shape.channels, set.shape.height, set.shape.width});
  std::uint64_t step = 0;
  for (auto _ : state) {
    const std::size_t first = (step % kBatchesInCycle) * kBatch;
    std::copy_n(set.images.begin() + std::ptrdiff_t(first * image_size), kBatch * image_size,
                images.data.begin());
    const auto outcome =
        learner->train_step(images, std::span(set.labels).subspan(first, kBatch),
                            {.pool = pool,
                             .step = step,
                             .lr = 0.01,
                             .seed = kSeed,
                             .recorder = step % kRecordEvery == 0 ? &recorder : nullptr});
    benchmark::DoNotOptimize(outcome.loss.loss);
    ++step;
  }
  state.counters["images_per_second"] =
      benchmark::Counter(double(state.iterations()) * kBatch, benchmark::Counter::kIsRate);
}

void register_all() {
  const struct {
    const char* model;
    const char* data;
  } models[] = {{"lenet5", "fashion-mnist"}, {"vgg-small", "synthetic:3x32x32"}};
  for (const auto& m : models)
    for (const char* scheme : {"fp32", "dfp16"})
      benchmark::RegisterBenchmark(
          (std::string("train_step/") + m.model + "/" + scheme).c_str(),
          [=](benchmark::State& state) { train_steps(state, m.model, m.data, scheme); })
          ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
