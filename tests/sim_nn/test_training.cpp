// End-to-end training on the synthetic set: it learns, it is bit-identical for 1 and 2 threads,
// fp16-mixed skips overflowed steps, and the trace holds what the run did.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "sim/train/data_source.hpp"
#include "sim/train/trainer.hpp"
#include "tests/support/training.hpp"
#include "traces/reader.hpp"

namespace lpsim::train {
namespace {

using test::weights;

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("lpsim-sim-nn-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

data::Split synthetic(const std::string& shape, std::int64_t train, std::int64_t test) {
  return load_data(parse_data_spec("synthetic:" + shape), train, test);
}

TrainConfig tiny_config(const std::filesystem::path& trace) {
  TrainConfig c;
  c.data = "synthetic";
  c.epochs = 2;
  c.batch = 32;
  c.lr = 0.01;
  c.trace = trace.string();
  c.record_every = 2;
  c.flush_every = 3;
  return c;
}

TEST(Training, TinyRunsLearn) {
  const TempDir dir;
  const data::Split split = synthetic("1x28x28", 320, 200);
  for (const std::string scheme : {"fp32", "fp16-mixed"}) {
    for (const std::string model : {"mlp", "lenet5"}) {
      SCOPED_TRACE(scheme + " " + model);
      TrainConfig c = tiny_config(dir / "learn.h5");
      c.scheme = scheme;
      c.model = model;
      c.epochs = 3;
      c.lr = 0.05;
      Trainer trainer(c, split);
      const TrainResult r = trainer.run();
      EXPECT_GT(r.test_accuracy, 0.6);  // chance is 0.1
      EXPECT_EQ(r.steps, 3 * 10);
      // fp16-mixed: apex's initial 2^16 overflows the first weight gradients a few times.
      EXPECT_LE(r.skipped_steps, scheme == "fp32" ? 0 : 5);
    }
  }
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Every column of every group of two traces, compared bit by bit (NaN cells included).
void expect_same_columns(const std::filesystem::path& a, const std::filesystem::path& b) {
  const traces::TraceReader ra(a), rb(b);
  EXPECT_EQ(ra.config(), rb.config());
  ASSERT_EQ(ra.tensors(), rb.tensors());
  std::vector<std::string> groups = {std::string(traces::kStepsGroup)};
  for (const traces::TensorId& t : ra.tensors())
    groups.push_back(traces::tensor_group(t.layer, t.role));
  for (const std::string& g : groups) {
    ASSERT_EQ(ra.columns(g), rb.columns(g)) << g;
    ASSERT_GT(ra.rows(g), 0u) << g;
    for (const traces::ColumnSpec& c : ra.columns(g))
      EXPECT_TRUE(same_bits(ra.read_float64(g, c.name), rb.read_float64(g, c.name)))
          << g << "/" << c.name;
  }
}

TEST(Training, SameBitsWithOneAndTwoThreads) {
  const TempDir dir;
  const data::Split split = synthetic("3x8x8", 64, 32);
  // fp16-mixed on resnet20 and vgg-small covers batch norm, residual additions, projections,
  // dropout and every conversion; fp32 on lenet5 the plain path, on both engines.
  struct Run {
    const char *scheme, *model, *engine;
  };
  for (const Run& run :
       {Run{"fp16-mixed", "resnet20", "onednn"}, Run{"fp16-mixed", "vgg-small", "onednn"},
        Run{"fp32", "lenet5", "onednn"}, Run{"fp32", "lenet5", "openblas"}}) {
    SCOPED_TRACE(std::string(run.scheme) + " " + run.model + " " + run.engine);
    TrainConfig c = tiny_config("");
    c.scheme = run.scheme;
    c.model = run.model;
    c.scheme_options = {{"engine", run.engine}};
    c.epochs = 1;
    c.record_every = 1;
    std::vector<std::vector<float>> trained[2];
    for (int threads : {1, 2}) {
      c.threads = threads;
      c.trace = (dir / (std::to_string(threads) + ".h5")).string();
      Trainer trainer(c, split);
      trainer.run();
      trained[threads - 1] = weights(trainer.model());
    }
    ASSERT_EQ(trained[0].size(), trained[1].size());
    for (std::size_t i = 0; i < trained[0].size(); ++i)
      EXPECT_EQ(std::memcmp(trained[0][i].data(), trained[1][i].data(), trained[0][i].size() * 4),
                0)
          << "parameter " << i;
    expect_same_columns(dir / "1.h5", dir / "2.h5");
  }
}

TEST(Training, TraceHoldsTheRun) {
  const TempDir dir;
  const data::Split split = synthetic("1x28x28", 256, 128);
  TrainConfig c = tiny_config(dir / "run.h5");
  c.scheme = "fp16-mixed";
  c.scheme_options = {{"loss_scale", "torch"}};
  Trainer trainer(c, split);
  const TrainResult r = trainer.run();

  const traces::TraceReader reader(dir / "run.h5");
  const auto config = reader.config();
  EXPECT_EQ(config.at("scheme"), "fp16-mixed");
  EXPECT_EQ(config.at("model"), "lenet5");
  EXPECT_EQ(config.at("scheme_option.loss_scale"), "torch");
  EXPECT_EQ(config.at("scheme.conv1.A"), "fp16:nearest-even:to-inf");
  EXPECT_EQ(config.at("scheme.conv1.W.backward"), "fp16:nearest-even:to-inf");
  EXPECT_EQ(config.at("scheme.conv1.engine"), "fp32-onednn");
  EXPECT_EQ(config.at("scheme_option.engine"), "fp32-onednn");
  EXPECT_EQ(config.at("scheme.flatten.A"), "fp32");
  EXPECT_EQ(config.at("scheme.logits"), "fp16:nearest-even:to-inf");
  EXPECT_EQ(reader.seed(), c.seed);

  const std::string steps(traces::kStepsGroup);
  ASSERT_EQ(reader.rows(steps), std::size_t(r.steps));
  const std::vector<double> scale = reader.read_float64(steps, "loss_scale");
  EXPECT_EQ(scale.front(), 0x1p16);
  const std::vector<double> test_accuracy = reader.read_float64(steps, "test_accuracy");
  EXPECT_TRUE(std::isnan(test_accuracy[0]));
  EXPECT_EQ(test_accuracy[7], test_accuracy[7]);  // the last step of epoch 1 (8 steps)
  EXPECT_EQ(test_accuracy.back(), r.test_accuracy);

  // Tensor statistics every record_every (2) steps; fp16 conversions of a scaled gradient round.
  const std::string fc3_e =
      traces::tensor_group("fc3", "E");  // the loss gradient, computed in fp32
  EXPECT_EQ(reader.read_int64(fc3_e, "step"),
            (std::vector<std::int64_t>{0, 2, 4, 6, 8, 10, 12, 14}));
  for (double inexact : reader.read_float64(fc3_e, "inexact")) EXPECT_GT(inexact, 0);
  // conv1's output gradient is relu1's input gradient, which selects fp16 values: nothing rounds.
  for (double inexact : reader.read_float64(traces::tensor_group("conv1", "E"), "inexact"))
    EXPECT_EQ(inexact, 0);
  for (const char* role : {"A", "W", "W.bias", "G", "G.bias"})
    EXPECT_EQ(reader.rows(traces::tensor_group("conv2", role)), 8u) << role;
  EXPECT_EQ(reader.rows(traces::tensor_group("logits", "A")), 8u);
  const std::vector<double> max_abs =
      reader.read_float64(traces::tensor_group("fc1", "W"), "max_abs");
  EXPECT_GT(max_abs.front(), 0);
  EXPECT_NE(max_abs.front(), max_abs.back());  // the weights move

  const auto summary = reader.summary();
  EXPECT_EQ(std::get<double>(summary.at("test_accuracy")), r.test_accuracy);
  EXPECT_EQ(std::get<std::int64_t>(summary.at("steps")), r.steps);
}

// Role U: the update SGD applies. With a learning rate far below half an ulp of every weight,
// every nonzero update is lost; with the usual one, almost none is.
TEST(Training, TraceRecordsLostUpdates) {
  const TempDir dir;
  const data::Split split = synthetic("1x28x28", 64, 32);
  for (const double lr : {1e-12, 0.05}) {
    TrainConfig c = tiny_config(dir / "updates.h5");
    c.epochs = 1;
    c.lr = lr;
    Trainer(c, split).run();
    const traces::TraceReader reader(dir / "updates.h5");
    for (const char* role : {"U", "U.bias"}) {
      const std::string group = traces::tensor_group("fc1", role);
      ASSERT_EQ(reader.rows(group), 1u) << role;  // steps 0 and 1, recorded every 2
      const std::int64_t elements = reader.read_int64(group, "elements")[0];
      EXPECT_EQ(elements, std::string(role) == "U" ? 400 * 120 : 120);
      const std::int64_t lost = reader.read_int64(group, "lost_updates")[0];
      const std::int64_t zero = reader.read_int64(group, "zero")[0];
      if (lr < 1e-6)
        EXPECT_EQ(lost, elements - zero) << role;
      else
        EXPECT_LT(lost, elements / 100) << role;
      EXPECT_GT(reader.read_float64(group, "max_abs")[0], 0) << role;
    }
  }
}

TEST(Training, Fp16MixedSkipsOverflowedSteps) {
  const TempDir dir;
  const data::Split split = synthetic("1x28x28", 256, 64);
  // 2^40 overflows fp16 in the very first gradient: every step is skipped, nothing moves.
  TrainConfig c = tiny_config(dir / "static.h5");
  c.scheme = "fp16-mixed";
  c.scheme_options = {{"loss_scale", "1099511627776"}};
  Trainer frozen(c, split);
  const auto before = weights(frozen.model());
  const TrainResult r = frozen.run();
  EXPECT_EQ(r.skipped_steps, r.steps);
  EXPECT_EQ(weights(frozen.model()), before);

  // Dynamic scaling from 2^21 halves on every overflow until the gradients fit (the loss gradient
  // alone reaches 2^21 / 32 = 65536 > 65504 at first).
  c.trace = (dir / "dynamic.h5").string();
  c.scheme_options = {{"loss_scale", "apex"}, {"init_scale", "2097152"}};
  Trainer dynamic(c, split);
  const TrainResult d = dynamic.run();
  EXPECT_GT(d.skipped_steps, 0);
  EXPECT_LT(d.skipped_steps, d.steps);
  const traces::TraceReader reader(dir / "dynamic.h5");
  const std::string steps(traces::kStepsGroup);
  const std::vector<double> scale = reader.read_float64(steps, "loss_scale");
  const std::vector<std::int64_t> skipped = reader.read_int64(steps, "skipped");
  for (std::size_t i = 0; i + 1 < scale.size(); ++i)
    EXPECT_EQ(scale[i + 1], skipped[i] ? scale[i] / 2 : scale[i]) << "step " << i;
  EXPECT_EQ(skipped[0], 1);
  EXPECT_EQ(skipped.back(), 0);
}

TEST(Training, ConfigErrors) {
  const data::Split split = synthetic("1x28x28", 64, 64);
  TrainConfig c = tiny_config("unused.h5");
  c.model = "resnet50";
  EXPECT_THROW(Trainer(c, split), ConfigError);
  c = tiny_config("unused.h5");
  c.scheme_options = {{"loss_scale", "apex"}};  // an fp16-mixed option
  EXPECT_THROW(Trainer(c, split), ConfigError);
}

}  // namespace
}  // namespace lpsim::train
