// The fp8-delayed and mx schemes: options and their errors, the plans apply_scheme records, tiny
// runs that learn, the delayed order read back from a trace, and the same bits for 1 and 2 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "sim/train/data_source.hpp"
#include "sim/train/trainer.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/training.hpp"
#include "traces/reader.hpp"
#include "traces/schema.hpp"

namespace lpsim {
namespace {

using test::expect_same_traces;
using test::weights;

std::string option(const schemes::Scheme& s, const std::string& key) {
  for (const auto& [k, v] : s.options())
    if (k == key) return v;
  return "(missing)";
}

void expect_rejected(const char* scheme, const schemes::SchemeOptions& options,
                     const std::string& message) {
  try {
    schemes::make_scheme(scheme, options, 1);
    ADD_FAILURE() << scheme << ": accepted, expected " << message;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(e.what(), message);
  }
}

TEST(Fp8DelayedScheme, OptionsAndErrors) {
  const auto defaults = schemes::make_scheme("fp8-delayed", {}, 1);
  for (const auto& [key, value] : {std::pair{"format", "hybrid"},
                                   {"history", "1024"},
                                   {"algo", "max"},
                                   {"margin", "0"},
                                   {"zero_amax", "skip"},
                                   {"roles", "AWE"},
                                   {"rounding", "nearest-even"},
                                   {"first_layer", "fp8"},
                                   {"last_layer", "fp8"},
                                   {"engine", "fp32-onednn"}})
    EXPECT_EQ(option(*defaults, key), value) << key;
  const auto set = schemes::make_scheme("fp8-delayed",
                                        {{"format", "e4m3"},
                                         {"history", "16"},
                                         {"algo", "most_recent"},
                                         {"margin", "2"},
                                         {"zero_amax", "record"},
                                         {"roles", "GEA"},
                                         {"last_layer", "fp32"}},
                                        1);
  EXPECT_EQ(option(*set, "roles"), "AEG");
  EXPECT_EQ(option(*set, "algo"), "most_recent");
  EXPECT_EQ(option(*set, "last_layer"), "fp32");

  expect_rejected("fp8-delayed", {{"format", "e5m2"}},
                  "fp8-delayed option format: \"e5m2\" (expected hybrid or e4m3)");
  expect_rejected("fp8-delayed", {{"history", "0"}},
                  "fp8-delayed option history: \"0\" is not an integer 1..65536");
  expect_rejected("fp8-delayed", {{"margin", "1.5"}},
                  "fp8-delayed option margin: \"1.5\" is not an integer 0..30");
  expect_rejected("fp8-delayed", {{"algo", "mean"}},
                  "fp8-delayed option algo: \"mean\" (expected max or most_recent)");
  expect_rejected("fp8-delayed", {{"roles", "AWA"}},
                  "fp8-delayed option roles: \"AWA\" (expected distinct letters of AWEG)");
  expect_rejected("fp8-delayed", {{"roles", ""}},
                  "fp8-delayed option roles: \"\" (expected distinct letters of AWEG)");
  expect_rejected("fp8-delayed", {{"first_layer", "bf16"}},
                  "fp8-delayed option first_layer: \"bf16\" (expected fp8 or fp32)");
  expect_rejected("fp8-delayed", {{"rounding", "niti-psr"}},
                  "fp8-delayed option rounding: \"niti-psr\" is not a rounding mode for it");
  EXPECT_THROW(schemes::make_scheme("fp8-delayed", {{"element", "mxfp4"}}, 1),
               std::invalid_argument);
}

TEST(MxScheme, OptionsAndErrors) {
  const auto defaults = schemes::make_scheme("mx", {}, 1);
  for (const auto& [key, value] : {std::pair{"element", "mxfp8-e4m3"},
                                   {"grad_element", "mxfp8-e4m3"},
                                   {"rounding", "nearest-even"},
                                   {"weight_grad", "requantize"},
                                   {"first_layer", "mx"},
                                   {"last_layer", "mx"},
                                   {"engine", "fp32-onednn"}})
    EXPECT_EQ(option(*defaults, key), value) << key;
  const auto fp4 = schemes::make_scheme("mx", {{"element", "mxfp4"}}, 1);
  EXPECT_EQ(option(*fp4, "grad_element"), "mxfp4");  // follows element
  expect_rejected("mx", {{"element", "mxfp16"}},
                  "mx option element: \"mxfp16\" (expected mxint8, mxfp8-e4m3, mxfp8-e5m2, "
                  "mxfp6-e3m2, mxfp6-e2m3, mxfp4)");
  expect_rejected("mx", {{"weight_grad", "transpose"}},
                  "mx option weight_grad: \"transpose\" (expected requantize or reuse)");
  expect_rejected("mx", {{"last_layer", "fp8"}},
                  "mx option last_layer: \"fp8\" (expected mx or fp32)");
  EXPECT_THROW(schemes::make_scheme("mx", {{"history", "4"}}, 1), std::invalid_argument);
}

std::map<std::string, std::string> plan_entries(const char* scheme,
                                                const schemes::SchemeOptions& options) {
  const nn::Model model = nn::build_model("lenet5", {1, 1, 28, 28}, 10, 1);
  const auto s = schemes::make_scheme(scheme, options, 1);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : schemes::apply_scheme(*s, model)) out[k] = v;
  return out;
}

TEST(Fp8DelayedScheme, Plans) {
  auto p = plan_entries("fp8-delayed", {{"first_layer", "fp32"}});
  const std::string e4m3 =
      "fp8-delayed:e4m3:nearest-even:saturate:history=1024:max:margin=0:zero-amax=skip";
  const std::string e5m2 =
      "fp8-delayed:e5m2:nearest-even:saturate:history=1024:max:margin=0:zero-amax=skip";
  EXPECT_EQ(p["scheme.conv1.A"], "fp32");
  EXPECT_EQ(p["scheme.conv1.E"], "fp32");
  EXPECT_EQ(p["scheme.conv2.A"], e4m3);
  EXPECT_EQ(p["scheme.conv2.W"], e4m3);
  EXPECT_EQ(p["scheme.conv2.W.backward"], e4m3);
  EXPECT_EQ(p["scheme.conv2.E"], e5m2);
  EXPECT_EQ(p["scheme.conv2.G"], "fp32");
  EXPECT_EQ(p["scheme.fc3.E"], e5m2);
  EXPECT_EQ(p["scheme.relu1.A"], "fp32");
  EXPECT_EQ(p["scheme.conv2.engine"], "fp32-onednn");
  p = plan_entries("fp8-delayed", {{"format", "e4m3"}, {"roles", "G"}, {"last_layer", "fp32"}});
  EXPECT_EQ(p["scheme.conv2.G"], e4m3);
  EXPECT_EQ(p["scheme.conv2.A"], "fp32");
  EXPECT_EQ(p["scheme.fc3.G"], "fp32");
}

TEST(MxScheme, Plans) {
  auto p = plan_entries("mx", {{"grad_element", "mxfp8-e5m2"}, {"last_layer", "fp32"}});
  EXPECT_EQ(p["scheme.conv1.A"], "mxfp8:nearest-even:saturate:along=dim1");
  EXPECT_EQ(p["scheme.conv1.W"], "mxfp8:nearest-even:saturate:along=dim1");
  EXPECT_EQ(p["scheme.conv1.W.backward"], "mxfp8:nearest-even:saturate:along=dim0");
  EXPECT_EQ(p["scheme.conv1.E"], "mxfp8:e5m2:nearest-even:saturate:along=dim1");
  EXPECT_EQ(p["scheme.conv1.G"], "fp32");
  EXPECT_EQ(p["scheme.conv1.engine"], "mx-weight-grad-dim0(fp32-onednn)");
  EXPECT_EQ(p["scheme.fc3.A"], "fp32");
  EXPECT_EQ(p["scheme.fc3.engine"], "fp32-onednn");
  p = plan_entries("mx", {{"weight_grad", "reuse"}, {"element", "mxint8"}});
  EXPECT_EQ(p["scheme.fc1.engine"], "fp32-onednn");
  EXPECT_EQ(p["scheme.fc1.A"], "mxint8:nearest-even:saturate:along=dim1");
}

train::TrainConfig tiny_config(const std::string& scheme, const schemes::SchemeOptions& options,
                               const std::filesystem::path& trace) {
  train::TrainConfig c;
  c.data = "synthetic";
  c.scheme = scheme;
  c.scheme_options = options;
  c.model = "lenet5";
  c.epochs = 3;
  c.batch = 32;
  c.lr = 0.05;
  c.trace = trace.string();
  c.record_every = 1;
  c.flush_every = 5;
  return c;
}

std::string label(const std::string& scheme, const schemes::SchemeOptions& options) {
  std::string text = scheme;
  for (const auto& [key, value] : options) text += " " + key + "=" + value;
  return text;
}

TEST(Fp8MxTraining, TinyRunsLearn) {
  const test::ScratchDir dir;
  const data::Split split = train::load_data(train::parse_data_spec("synthetic:1x28x28"), 320, 200);
  for (const char* scheme : {"fp8-delayed", "mx"}) {
    SCOPED_TRACE(scheme);
    train::Trainer trainer(tiny_config(scheme, {}, dir / "run.h5"), split);
    EXPECT_GT(trainer.run().test_accuracy, 0.6);  // chance is 0.1
  }
}

// The trace shows the delayed order: with a history longer than the run, the scale of step s is
// fp8_max over the largest amax of steps 0..s-1 (1 at step 0), for every recorded FP8 tensor.
TEST(Fp8MxTraining, TraceShowsTheDelayedScale) {
  const test::ScratchDir dir;
  const data::Split split = train::load_data(train::parse_data_spec("synthetic:1x28x28"), 160, 64);
  train::TrainConfig c = tiny_config("fp8-delayed", {}, dir / "fp8.h5");
  c.epochs = 2;
  train::Trainer(c, split).run();
  const traces::TraceReader reader(dir / "fp8.h5");
  EXPECT_EQ(reader.config().at("scheme_option.format"), "hybrid");
  std::size_t checked = 0;
  for (const auto& [role, fp8_max] : {std::pair{"A", 448.0f}, {"W", 448.0f}, {"E", 57344.0f}}) {
    for (const char* layer : {"conv1", "conv2", "fc3"}) {
      const std::string group = traces::tensor_group(layer, role);
      const auto step = reader.read_int64(group, "step");
      const auto amax = reader.read_float64(group, "fp8_amax");
      const auto scale = reader.read_float64(group, "fp8_scale");
      const auto max_abs = reader.read_float64(group, "max_abs");
      ASSERT_EQ(step.size(), 10u) << group;
      float window = 0;
      for (std::size_t i = 0; i < step.size(); ++i) {
        ASSERT_EQ(step[i], std::int64_t(i)) << group;
        EXPECT_EQ(scale[i], i == 0 ? 1.0 : double(fp8_max / window)) << group << " step " << i;
        EXPECT_EQ(amax[i], max_abs[i]) << group;
        window = std::max(window, float(amax[i]));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 90u);
  // The first steps cast gradients with scale 1: E5M2 flushes most of them to zero.
  const auto flushed = reader.read_int64(traces::tensor_group("conv2", "E"), "flushed_to_zero");
  EXPECT_GT(flushed[0], flushed[5]);
}

TEST(Fp8MxTraining, SameBitsWithOneAndTwoThreads) {
  const test::ScratchDir dir;
  const data::Split split = train::load_data(train::parse_data_spec("synthetic:1x28x28"), 96, 32);
  for (const auto& [scheme, options] :
       {std::pair{"fp8-delayed", schemes::SchemeOptions{{"roles", "AWEG"}}},
        {"mx", schemes::SchemeOptions{{"rounding", "stochastic"}, {"element", "mxint8"}}}}) {
    SCOPED_TRACE(label(scheme, options));
    std::vector<std::vector<float>> trained[2];
    for (int threads : {1, 2}) {
      train::TrainConfig c = tiny_config(scheme, options, dir / (std::to_string(threads) + ".h5"));
      c.epochs = 1;
      c.threads = threads;
      train::Trainer trainer(c, split);
      trainer.run();
      trained[threads - 1] = weights(trainer.model());
    }
    EXPECT_EQ(trained[0], trained[1]);
    expect_same_traces(dir / "1.h5", dir / "2.h5");
  }
}

}  // namespace
}  // namespace lpsim
