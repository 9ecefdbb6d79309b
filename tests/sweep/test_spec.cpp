// Sweep files: what parse_sweep reads, the expansion order of expand(), excludes, and the one-line
// errors (file, line, key) for every kind of bad file.
#include <gtest/gtest.h>

#include <string>

#include "sim/sweep/expand.hpp"
#include "sim/sweep/papers.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace lpsim::sweep {
namespace {

// gtest's Test::Run hides sweep::Run inside test bodies.
using Runs = std::vector<Run>;

std::vector<std::string> ids_and_values(const Runs& runs) {
  std::vector<std::string> lines;
  for (const Run& r : runs) {
    std::string line = r.id + ":";
    for (const auto& [axis, value] : r.assignment) line += " " + axis + "=" + value;
    lines.push_back(line);
  }
  return lines;
}

TEST(SweepSpec, FixedSettingsOptionsAxesAndExcludes) {
  const SweepSpec spec = parse_sweep(R"(
model = "mlp"
epochs = 3
lr = 0.1

[scheme_options.dfp16]
add_shift = 3

[axes]
seed = [1, 2]
"dfp16.rounding" = ["nearest-even", "stochastic"]
scheme = ["fp32", "dfp16"]

[[exclude]]
seed = 2
"dfp16.rounding" = "stochastic"
)",
                                     "s.toml");
  EXPECT_EQ(spec.fixed.model, "mlp");
  EXPECT_EQ(spec.fixed.epochs, 3);
  EXPECT_EQ(spec.fixed.lr, 0.1);
  EXPECT_EQ(spec.scheme_options.at("dfp16").at("add_shift"), "3");
  // File order, the scoped axis moved right after `scheme`.
  ASSERT_EQ(spec.axes.size(), 3u);
  EXPECT_EQ(spec.axes[0].name, "seed");
  EXPECT_EQ(spec.axes[1].name, "scheme");
  EXPECT_EQ(spec.axes[2].name, "dfp16.rounding");
  EXPECT_EQ(spec.axes[2].scheme, "dfp16");
  EXPECT_EQ(spec.axes[2].option, "rounding");
  EXPECT_EQ(spec.axes[2].values[1].line, 11);
  EXPECT_EQ(spec.axes_line, 9);
  ASSERT_EQ(spec.excludes.size(), 1u);
  EXPECT_EQ(spec.excludes[0].line, 14);

  const Runs runs = expand(spec);
  // Last axis fastest; the scoped axis multiplies dfp16 runs only; one run excluded.
  EXPECT_EQ(ids_and_values(runs), (std::vector<std::string>{
                                      "0000: seed=1 scheme=fp32",
                                      "0001: seed=1 scheme=dfp16 dfp16.rounding=nearest-even",
                                      "0002: seed=1 scheme=dfp16 dfp16.rounding=stochastic",
                                      "0003: seed=2 scheme=fp32",
                                      "0004: seed=2 scheme=dfp16 dfp16.rounding=nearest-even",
                                  }));
  EXPECT_EQ(runs[3].config.seed, 2u);
  EXPECT_EQ(runs[3].index, 3u);
  EXPECT_TRUE(runs[3].config.scheme_options.empty());  // [scheme_options.dfp16] is dfp16's
  EXPECT_EQ(runs[2].config.scheme, "dfp16");
  EXPECT_EQ(runs[2].config.scheme_options,
            (schemes::SchemeOptions{{"add_shift", "3"}, {"rounding", "stochastic"}}));
  EXPECT_EQ(runs[2].config.epochs, 3);
  EXPECT_EQ(runs[2].config.model, "mlp");
}

TEST(SweepSpec, ScopedAxesOfAFixedSchemeLead) {
  const Runs runs = expand(parse_sweep(R"(
scheme = "fp16-mixed"
[axes]
lr = [0.1, 0.2]
"fp16-mixed.loss_scale" = ["apex", 1024]
)",
                                       "s.toml"));
  EXPECT_EQ(ids_and_values(runs), (std::vector<std::string>{
                                      "0000: fp16-mixed.loss_scale=apex lr=0.1",
                                      "0001: fp16-mixed.loss_scale=apex lr=0.2",
                                      "0002: fp16-mixed.loss_scale=1024 lr=0.1",
                                      "0003: fp16-mixed.loss_scale=1024 lr=0.2",
                                  }));
  EXPECT_EQ(runs[3].config.scheme_options.at("loss_scale"), "1024");
  EXPECT_EQ(runs[3].config.lr, 0.2);
}

TEST(SweepSpec, ExcludeValuesCompareAsNumbers) {
  // 1.0 names the axis value 1 (an integer), and an integer exclude a float axis value.
  const Runs runs = expand(parse_sweep(R"(
[axes]
lr = [1, 0.5, 2.0]
[[exclude]]
lr = 1.0
[[exclude]]
lr = 2
)",
                                       "s.toml"));
  EXPECT_EQ(ids_and_values(runs), (std::vector<std::string>{"0000: lr=0.5"}));
}

TEST(SweepSpec, IdsWidenPastTenThousandRuns) {
  const Runs runs = expand(parse_sweep(
      "[axes]\nseed = [" +
          [] {
            std::string seeds;
            for (int i = 0; i < 10001; ++i) seeds += std::to_string(i) + ",";
            return seeds;
          }() +
          "]\n",
      "s.toml"));
  EXPECT_EQ(runs.front().id, "00000");
  EXPECT_EQ(runs.back().id, "10000");
}

TEST(SweepSpec, PapersSweepIsValid) {
  const SweepSpec spec = parse_sweep(papers_toml(), std::string(kPapersFile));
  const Runs runs = expand(spec);
  EXPECT_GE(runs.size(), 3u);
  EXPECT_EQ(runs.front().config.scheme, "fp32");
  EXPECT_EQ(runs.front().config.model, "lenet5");
  EXPECT_EQ(runs.front().config.data, "fashion-mnist");
}

struct BadFile {
  const char* text;
  const char* error;
};

TEST(SweepSpec, BadFilesAreRejectedWithLineAndKey) {
  const BadFile cases[] = {
      {"model = \"mlp\n", "s.toml:1: "},
      {"foo = 1\n[axes]\nseed = [1]\n", "s.toml:1: unknown key \"foo\""},
      {"epochs = \"two\"\n[axes]\nseed = [1]\n", "s.toml:1: \"epochs\" must be an integer"},
      {"threads = 2\n[axes]\nseed = [1]\n", "s.toml:1: threads: set by lpsim sweep"},
      {"trace = \"x.h5\"\n[axes]\nseed = [1]\n", "s.toml:1: trace: set by lpsim sweep"},
      {"model = \"mlp\"\n", "s.toml:1: axes: missing"},
      {"axes = 1\n", "s.toml:1: axes: must be a table of lists"},
      {"[axes]\n", "s.toml:1: axes: no axes"},
      {"[axes]\nseed = []\n", "s.toml:2: axes.seed: empty list"},
      {"[axes]\nseed = 1\n", "s.toml:2: axes.seed: must be a list of values"},
      {"[axes]\nseed = [1, 1]\n", "s.toml:2: axes.seed: 1 is listed twice"},
      {"[axes]\nseed = [1, \"two\"]\n", "s.toml:2: \"seed\" must be an integer"},
      {"[axes]\nthreads = [1, 2]\n", "s.toml:2: axes.threads: set by lpsim sweep"},
      {"[axes]\nlrr = [1]\n", "s.toml:2: unknown key \"lrr\""},
      {"[axes]\nlr = [0.1,\n  -1]\n", "s.toml:3: lr: -1 (need > 0)"},
      {"[axes]\nscheme = [\"fp32\", \"bf17\"]\n", "s.toml:2: unknown scheme \"bf17\""},
      {"[axes]\nmodel = [\"mlp\", \"resnet50\"]\n", "s.toml:2: unknown model \"resnet50\""},
      {"[axes]\ndata = [\"imagenet\"]\n", "s.toml:2: data: unknown data set \"imagenet\""},
      {"[axes]\nscheme = [\"dfp16\"]\n\"dfp16.acc\" = [\n\"acc:int32:wrap\",\n\"acc:int33\"]\n",
       "s.toml:5: axes.dfp16.acc: bad accumulator \"acc:int33\""},
      {"[axes]\nscheme = [\"dfp16\"]\n\"dfp16.rounding\" = [\"sideways\"]\n",
       "s.toml:3: axes.dfp16.rounding: dfp16 option rounding: \"sideways\""},
      {"[axes]\nscheme = [\"dfp16\"]\n\"dfp16.colour\" = [1]\n",
       "s.toml:3: axes.dfp16.colour: scheme dfp16 has no option \"colour\""},
      {"[axes]\n\"bf17.acc\" = [1]\n", "s.toml:2: axes.bf17.acc: unknown scheme \"bf17\""},
      {"[axes]\n\"fp32.\" = [1]\n", "s.toml:2: axes.fp32.: expected SCHEME.OPTION"},
      {"[axes]\nscheme = [\"fp32\"]\n\"dfp16.rounding\" = [\"stochastic\"]\n",
       "s.toml:3: axes.dfp16.rounding: no run has scheme dfp16 (add it to axes.scheme)"},
      {"[axes]\n\"dfp16.rounding\" = [\"stochastic\"]\n",
       "s.toml:2: axes.dfp16.rounding: no run has scheme dfp16 (the fixed scheme is fp32)"},
      {"[axes]\n\"fp16-mixed.loss_scale\" = [true]\nscheme = [\"fp16-mixed\"]\n",
       "s.toml:2: scheme option \"loss_scale\" must be a string or a number"},
      {"lr = 0.1\n[axes]\nlr = [0.2]\n",
       "s.toml:3: axes.lr: also a fixed setting (line 1); give one or the other"},
      {"[scheme_options.dfp16]\nadd_shift = 2\n[axes]\nscheme = [\"dfp16\"]\n\"dfp16.add_shift\" = "
       "[1]\n",
       "s.toml:5: axes.dfp16.add_shift: also fixed in [scheme_options.dfp16] (line 2)"},
      {"[scheme_options]\nacc = \"x\"\n[axes]\nseed = [1]\n",
       "s.toml:2: scheme_options.acc: must be a table [scheme_options.SCHEME]"},
      {"[scheme_options.bf17]\nacc = \"x\"\n[axes]\nseed = [1]\n",
       "s.toml:1: scheme_options.bf17: unknown scheme \"bf17\""},
      {"[scheme_options.dfp16]\nadd_shift = 99\n[axes]\nseed = [1]\n",
       "s.toml:2: scheme_options.dfp16.add_shift: dfp16 option add_shift: \"99\""},
      {"exclude = 1\n[axes]\nseed = [1]\n", "s.toml:1: exclude: must be [[exclude]] tables"},
      {"[axes]\nseed = [1, 2]\n[[exclude]]\n", "s.toml:3: exclude: empty table"},
      {"[axes]\nseed = [1, 2]\n[[exclude]]\nlr = 0.1\n", "s.toml:4: exclude.lr: not an axis"},
      {"[axes]\nseed = [1, 2]\n[[exclude]]\nseed = 3\n",
       "s.toml:4: exclude.seed: 3 is not a value of axes.seed"},
      {"[axes]\nseed = [1, 2]\n[[exclude]]\nseed = \"1\"\n",
       "s.toml:4: \"seed\" must be an integer"},
      {"[axes]\nseed = [1]\n[[exclude]]\nseed = 1\n", "s.toml:3: exclude: every run is excluded"},
      // A combination no single value shows: the run and its values.
      {"scheme = \"fp16-mixed\"\n[axes]\n\"fp16-mixed.loss_scale\" = [\"apex\", 1024]\n"
       "\"fp16-mixed.init_scale\" = [8]\n",
       "s.toml:2: axes: run 0001 (fp16-mixed.loss_scale=1024, fp16-mixed.init_scale=8): "
       "fp16-mixed option init_scale needs a dynamic loss_scale"},
  };
  for (const BadFile& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      expand(parse_sweep(c.text, "s.toml"));
      ADD_FAILURE() << "accepted";
    } catch (const SweepError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(c.error, 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(SweepSpec, MissingFile) {
  try {
    read_sweep("/no/such/sweep.toml");
    ADD_FAILURE() << "accepted";
  } catch (const SweepError& e) {
    EXPECT_STREQ(e.what(), "/no/such/sweep.toml: no such file");
  }
}

TEST(SweepSpec, ValueText) {
  EXPECT_EQ(value_text(std::int64_t(-7)), "-7");
  EXPECT_EQ(value_text(0.1), "0.1");
  EXPECT_EQ(value_text(1.0), "1");
  EXPECT_EQ(value_text(std::string("fp32")), "fp32");
  EXPECT_EQ(value_text(true), "true");
}

}  // namespace
}  // namespace lpsim::sweep
