// wageubn-8 end to end on the synthetic set: the same bits for 1 and 2 threads, it learns, and
// its trace holds the scheme's own columns (R's exponent, g_scale, lr_q, BN ranges) consistent
// with the run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sim/schemes/wageubn/optimizer.hpp"
#include "sim/schemes/wageubn/quantize.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/trainer.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/training.hpp"
#include "traces/reader.hpp"
#include "traces/schema.hpp"

namespace lpsim::train {
namespace {

using test::expect_same_traces;
using test::weights;

data::Split synthetic(const std::string& shape, std::int64_t train, std::int64_t test) {
  return load_data(parse_data_spec("synthetic:" + shape), train, test);
}

TrainConfig wageubn_config(const std::string& model, const std::filesystem::path& trace) {
  TrainConfig c;
  c.scheme = "wageubn-8";
  c.model = model;
  c.data = "synthetic";
  c.epochs = 1;
  c.batch = 32;
  c.trace = trace.string();
  c.record_every = 1;
  return c;
}

TEST(WageubnTraining, SameBitsWithOneAndTwoThreads) {
  const test::ScratchDir dir;
  const data::Split split = synthetic("3x8x8", 64, 32);
  for (const char* model : {"vgg-small", "lenet5"}) {
    SCOPED_TRACE(model);
    TrainConfig c = wageubn_config(model, "");
    c.scheme_options = {{"first_layer", "quantized"}};
    std::vector<std::vector<float>> trained[2];
    for (int threads : {1, 2}) {
      c.threads = threads;
      c.trace = (dir / (std::to_string(threads) + ".h5")).string();
      Trainer trainer(c, split);
      trainer.run();
      trained[threads - 1] = weights(trainer.model());
    }
    EXPECT_EQ(trained[0], trained[1]);
    expect_same_traces(dir / "1.h5", dir / "2.h5");
  }
}

TEST(WageubnTraining, TinyRunLearns) {
  const test::ScratchDir dir;
  const data::Split split = synthetic("1x28x28", 320, 200);
  TrainConfig c = wageubn_config("lenet5", dir / "learn.h5");
  c.epochs = 3;
  c.lr = 0.5;
  c.record_every = 10;
  const TrainResult r = Trainer(c, split).run();
  EXPECT_GT(r.test_accuracy, 0.6);  // chance is 0.1
}

TEST(WageubnTraining, TraceHoldsTheSchemesColumns) {
  const test::ScratchDir dir;
  const data::Split split = synthetic("3x8x8", 64, 32);
  TrainConfig c = wageubn_config("vgg-small", dir / "run.h5");
  c.epochs = 2;  // 4 steps: the g_scale boundaries come after steps 1, 2, 3 and 3
  Trainer(c, split).run();
  const traces::TraceReader reader(dir / "run.h5");
  const auto config = reader.config();
  EXPECT_EQ(config.at("scheme.conv2.E"), "wageubn-fe2:flag(8+1)");
  EXPECT_EQ(config.at("scheme.relu1.E"), "wageubn-fe1:R*clamp(Q(x/R,8),-1,1)");
  EXPECT_EQ(config.at("scheme.optimizer"),
            "wageubn-momentum:momentum=0.25:lr=flr(10):momentum_bits=13:weight_bits=24:"
            "init_bits=16:requantize=after-update");
  EXPECT_EQ(config.at("scheme_option.g_scale"), "schedule");

  // R = 2^round(log2 max|x|) of each recorded E1, E2 and G conversion.
  for (const auto& [layer, role] :
       {std::pair{"relu1", "E"}, {"conv2", "E"}, {"conv2", "G"}, {"fc1", "G.bias"}}) {
    const std::string g = traces::tensor_group(layer, role);
    const std::vector<double> max_abs = reader.read_float64(g, "max_abs");
    const std::vector<std::int64_t> r = reader.read_int64(g, "r_exponent");
    ASSERT_EQ(r.size(), 4u) << g;
    for (std::size_t i = 0; i < r.size(); ++i)
      EXPECT_EQ(r[i], schemes::wageubn::scale_exponent(float(max_abs[i]))) << g << " " << i;
  }
  for (double f : reader.read_float64(traces::tensor_group("conv2", "E"), "fine_fraction")) {
    EXPECT_GE(f, 0);
    EXPECT_LE(f, 1);
  }
  // g_scale in the G and U rows follows the schedule: phases 0, 0, 1, 2.
  const std::vector<double> want_g_scale = {128, 128, 128, 32};
  EXPECT_EQ(reader.read_float64(traces::tensor_group("conv2", "G"), "g_scale"), want_g_scale);
  EXPECT_EQ(reader.read_float64(traces::tensor_group("bn2", "U.gamma"), "g_scale"), want_g_scale);
  // lr_q = flr of the step's learning rate; the first layer's U rows too.
  const std::vector<double> lr =
      reader.read_float64(std::string(traces::kStepsGroup), "learning_rate");
  const std::vector<double> lr_q = reader.read_float64(traces::tensor_group("conv1", "U"), "lr_q");
  ASSERT_EQ(lr_q.size(), lr.size());
  for (std::size_t i = 0; i < lr.size(); ++i)
    EXPECT_EQ(lr_q[i], schemes::wageubn::quantize_lr(float(lr[i]), 10)) << i;
  // Batch norm: mu_q and sigma_q ranges (sigma_q >= 2^-15), x-hat on the 2^-7 grid.
  const std::string mean = traces::tensor_group("bn1", "BN.mean"),
                    std = traces::tensor_group("bn1", "BN.std");
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_LE(reader.read_float64(mean, "q_min")[i], reader.read_float64(mean, "q_max")[i]);
    EXPECT_GE(reader.read_float64(std, "q_min")[i], 0x1p-15);
  }
  EXPECT_GT(reader.read_int64(traces::tensor_group("bn1", "BN.xhat"), "inexact")[0], 0);
}

}  // namespace
}  // namespace lpsim::train
