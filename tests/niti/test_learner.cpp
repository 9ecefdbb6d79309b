// The niti-int8 scheme end to end: every step's loss, extras and recorded statistics identical
// with 1 and 2 threads (each variant), the mu schedule, tiny runs that learn, the trace's NITI
// columns, and one-line errors for bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "sim/data/synthetic.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scheme.hpp"
#include "sim/train/trainer.hpp"
#include "tests/support/scratch_dir.hpp"
#include "traces/reader.hpp"
#include "traces/schema.hpp"

namespace lpsim::schemes {
namespace {

// Every field of every recorded conversion, as text with exact doubles.
class TextRecorder final : public nn::Recorder {
 public:
  void record(const std::string& layer, const std::string& role,
              const nn::TensorStats& s) override {
    std::string row = layer + "/" + role + " " + std::to_string(s.elements) + " " +
                      std::to_string(s.shared_exponent.value_or(-999)) + " " + exact(s.max_abs) +
                      " " + std::to_string(s.counts.saturated) + " " +
                      std::to_string(s.counts.wrapped) + " " + std::to_string(s.counts.inexact) +
                      " " + std::to_string(s.counts.zero);
    for (const auto& [name, value] : s.extras)
      row +=
          " " + name + "=" +
          (std::holds_alternative<double>(value) ? exact(std::get<double>(value))
                                                 : std::to_string(std::get<std::int64_t>(value)));
    rows.push_back(row);
  }
  static std::string exact(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return std::to_string(bits);
  }
  std::vector<std::string> rows;
};

// `steps` steps of niti-int8 on synthetic 1 x 12 x 12 images, batch 16, recording every step:
// the recorded statistics, each step's loss and extras, then a test batch's loss.
std::vector<std::string> train(const std::string& model_name, const SchemeOptions& options,
                               int threads, int steps) {
  const data::Split split = data::synthetic_split(64, 16, 4, 3, {1, 12, 12});
  nn::Model model = nn::build_model(model_name, {1, 1, 12, 12}, 4, 7);
  const auto scheme = make_scheme("niti-int8", options, 7);
  const auto learner = scheme->learner({.model = model, .sgd = {}, .seed = 7});
  nn::ThreadPool pool(threads);
  TextRecorder recorder;
  nn::Tensor images;
  for (int step = 0; step < steps; ++step) {
    const std::size_t first = std::size_t(step % 4) * 16;
    images.resize({16, 1, 12, 12});
    std::copy_n(split.train.images.begin() + std::ptrdiff_t(first * 144), 16 * 144,
                images.data.begin());
    const std::span<const std::uint8_t> labels(split.train.labels.data() + first, 16);
    const StepOutcome o = learner->train_step(
        images, labels,
        {.pool = pool, .step = std::uint64_t(step), .epoch = 0, .seed = 7, .recorder = &recorder});
    std::string row = TextRecorder::exact(o.loss.loss) + " " + std::to_string(o.loss.correct);
    for (const auto& [name, value] : o.extras)
      row += " " + name + "=" + std::to_string(std::get<std::int64_t>(value));
    recorder.rows.push_back(row);
  }
  images.resize({16, 1, 12, 12});
  std::copy_n(split.test.images.begin(), 16 * 144, images.data.begin());
  const nn::LossResult r = learner->evaluate(images, split.test.labels, pool, std::uint64_t(steps));
  recorder.rows.push_back("test " + TextRecorder::exact(r.loss) + " " + std::to_string(r.correct));
  return recorder.rows;
}

TEST(NitiLearner, SameBitsWithOneAndTwoThreads) {
  struct Case {
    const char* model;
    SchemeOptions options;
    int steps;
  };
  // The 16-bit saturating accumulator sends most convolution outputs down the exact path.
  for (const Case& c :
       {Case{"lenet5", {}, 4}, Case{"mlp", {}, 4},
        Case{"lenet5", {{"variant", "2020"}, {"loss", "float-div"}}, 3},
        Case{"lenet5", {{"division", "floor"}, {"conv_acc", "acc:int16:sat:group=16"}}, 1}}) {
    SCOPED_TRACE(std::string(c.model) + " " + std::to_string(c.options.size()) + " options");
    const auto one = train(c.model, c.options, 1, c.steps),
               two = train(c.model, c.options, 2, c.steps);
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i], two[i]);
    if (c.options.contains("conv_acc")) {  // and it saturates: the rows count it
      EXPECT_TRUE(std::any_of(one.begin(), one.end(), [](const std::string& r) {
        return r.find("acc_saturated=") != std::string::npos &&
               r.find("acc_saturated=0 ") == std::string::npos;
      }));
    }
  }
}

TEST(NitiLearner, OptionsChangeTheRun) {
  const auto head = train("mlp", {}, 1, 3);
  EXPECT_NE(head, train("mlp", {{"variant", "2020"}}, 1, 3));
  EXPECT_NE(head, train("mlp", {{"loss", "float-div"}}, 1, 3));
  EXPECT_NE(head, train("mlp", {{"mu_schedule", "0:2"}}, 1, 3));
}

TEST(NitiLearner, MuFollowsTheScheduleByEpoch) {
  nn::Model model = nn::build_model("mlp", {1, 1, 4, 4}, 2, 1);
  const auto scheme = make_scheme("niti-int8", {{"mu_schedule", "0:5,100:4,150:3"}}, 1);
  const auto learner = scheme->learner({.model = model, .sgd = {}, .seed = 1});
  nn::ThreadPool pool(1);
  nn::Tensor images;
  images.resize({2, 1, 4, 4});
  std::fill(images.data.begin(), images.data.end(), 0.5f);
  const std::uint8_t labels[] = {0, 1};
  for (const auto& [epoch, mu] : {std::pair{0, 5}, std::pair{99, 5}, std::pair{100, 4},
                                  std::pair{149, 4}, std::pair{150, 3}, std::pair{500, 3}}) {
    const StepOutcome o = learner->train_step(
        images, labels, {.pool = pool, .epoch = std::uint64_t(epoch), .seed = 1});
    EXPECT_EQ(std::get<std::int64_t>(o.extras[0].second), mu) << epoch;
    EXPECT_EQ(o.lr, 0);  // NITI has no learning rate
  }
}

TEST(NitiLearner, TinyRunsLearnAndTraceNitiColumns) {
  const test::ScratchDir dir;
  const data::Split split = data::synthetic_split(320, 200, 10, 1, {1, 28, 28});
  for (const std::string model : {"mlp", "lenet5"}) {
    SCOPED_TRACE(model);
    train::TrainConfig c;
    c.scheme = "niti-int8";
    c.model = model;
    c.data = "synthetic";
    c.epochs = 3;
    c.batch = 32;
    c.record_every = 2;
    c.trace = (dir / (model + ".h5")).string();
    train::Trainer trainer(c, split);
    const train::TrainResult r = trainer.run();
    EXPECT_GT(r.test_accuracy, 0.4);  // chance is 0.1
    const traces::TraceReader trace(c.trace);
    const auto config = trace.config();
    EXPECT_EQ(config.at("scheme_option.variant"), "head");
    EXPECT_EQ(config.at("scheme_option.conv_acc"), "acc:int32:sat:group=16:fp32-epilogue");
    EXPECT_EQ(config.at("scheme.fc1.engine"), "int8 linear, acc:int32:wrap");
    EXPECT_NE(config.at("scheme.bias").find("not used (NITI has none): "), std::string::npos);
    EXPECT_NE(config.at("scheme.bias").find("fc1.bias"), std::string::npos);
    const std::vector<traces::TensorId> tensors = trace.tensors();
    for (const char* role : {"A", "E", "G", "U"})
      EXPECT_NE(std::find_if(
                    tensors.begin(), tensors.end(),
                    [&](const traces::TensorId& t) { return t.layer == "fc2" && t.role == role; }),
                tensors.end())
          << role;
    const std::string grad = traces::tensor_group("fc1", "G");
    for (const char* column : {"acc_bits", "shift", "mu", "acc_saturated", "epilogue_rounded"})
      EXPECT_TRUE(trace.has_column(grad, column)) << column;
    EXPECT_TRUE(trace.has_column(traces::tensor_group("fc1", "U"), "pinned"));
    for (const char* column : {"mu", "loss_branch", "logit_exponent"})
      EXPECT_TRUE(trace.has_column(std::string(traces::kStepsGroup), column)) << column;
    // The default schedule: mu 5, 4, 3 in epochs 1, 2, 3 (10 steps each).
    const std::vector<std::int64_t> mu = trace.read_int64(grad, "mu"),
                                    step = trace.read_int64(grad, "step");
    ASSERT_EQ(mu.size(), 15u);
    for (std::size_t i = 0; i < mu.size(); ++i) EXPECT_EQ(mu[i], 5 - step[i] / 10) << step[i];
  }
}

std::string option_error(const SchemeOptions& options) {
  try {
    make_scheme("niti-int8", options, 1);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(NitiLearner, BadOptionsAreOneLineErrors) {
  EXPECT_EQ(option_error({{"variant", "2021"}}),
            "niti-int8 option variant: \"2021\" (expected head or 2020)");
  EXPECT_EQ(option_error({{"division", "round"}}),
            "niti-int8 option division: \"round\" (expected trunc or floor)");
  EXPECT_EQ(option_error({{"loss", "float"}}),
            "niti-int8 option loss: \"float\" (expected int or float-div)");
  EXPECT_EQ(option_error({{"mu_schedule", "1:5"}}),
            "niti-int8 option mu_schedule: \"1:5\" (epochs must start at 0 and increase)");
  EXPECT_EQ(option_error({{"mu_schedule", "0:5,3"}}),
            "niti-int8 option mu_schedule: \"0:5,3\" (expected epoch:mu pairs separated by commas, "
            "e.g. 0:5,100:4,150:3)");
  EXPECT_EQ(option_error({{"mu_schedule", "0:40"}}),
            "niti-int8 option mu_schedule: \"0:40\" (mu must be in -16..16)");
  EXPECT_EQ(
      option_error({{"conv_acc", "acc:exact"}}),
      "niti-int8 option conv_acc: \"acc:exact\": an unbounded accumulator has no int32 results");
  EXPECT_NE(option_error({{"linear_acc", "acc:int33"}}).find("niti-int8 option linear_acc: "),
            std::string::npos);
  EXPECT_NE(option_error({{"lr", "1"}}).find("scheme niti-int8 has no option \"lr\""),
            std::string::npos);
  EXPECT_EQ(option_error({{"mu_schedule", "0:5,100:4,150:3"}, {"variant", "2020"}}), "accepted");
}

}  // namespace
}  // namespace lpsim::schemes
