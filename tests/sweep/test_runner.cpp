// Running a sweep in-process: every run finishes with the same bits as a lone Trainer run of its
// configuration, although two jobs share the process; a trace counts as finished only for its own
// configuration; resume keeps finished traces and redoes the rest.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/sweep/runner.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/trainer.hpp"
#include "tests/support/scratch_dir.hpp"
#include "traces/reader.hpp"
#include "traces/writer.hpp"

namespace lpsim::sweep {
namespace {

using Runs = std::vector<Run>;  // gtest's Test::Run hides sweep::Run inside test bodies
using Status = RunState::Status;

constexpr const char* kTinySweep = R"(
model = "mlp"
data = "synthetic"
epochs = 1
batch = 32
limit_train = 128
limit_test = 64
record_every = 2
[axes]
scheme = ["fp32", "fp16-mixed"]
seed = [1, 2]
)";

SweepOptions options_for(const std::filesystem::path& out, int jobs) {
  SweepOptions o;
  o.out = out;
  o.jobs = jobs;
  return o;
}

std::vector<RunState> sweep_into(const std::filesystem::path& out, int jobs, bool resume,
                                 std::ostream& log) {
  const SweepSpec spec = parse_sweep(kTinySweep, "tiny.toml");
  const Runs runs = expand(spec);
  SweepOptions options = options_for(out, jobs);
  options.resume = resume;
  Cluster cluster;
  prepare_directory(spec, options, cluster);
  return run_sweep(runs, kept_runs(runs, out, cluster, log), options, cluster, log, false);
}

TEST(SweepRunner, RunsMatchLoneTrainerRuns) {
  const test::ScratchDir dir;
  const Runs runs = expand(parse_sweep(kTinySweep, "tiny.toml"));
  std::ostringstream log;
  const std::vector<RunState> two_jobs = sweep_into(dir / "two", 2, false, log);
  const data::Split split = train::load_data(train::parse_data_spec("synthetic"), 128, 64);
  ASSERT_EQ(two_jobs.size(), runs.size());
  for (const auto& run : runs) {
    SCOPED_TRACE(run.id);
    const RunState& state = two_jobs[run.index];
    ASSERT_EQ(state.status, Status::finished) << state.failure;
    train::TrainConfig lone = run.config;
    lone.trace = (dir / "lone.h5").string();
    const train::TrainResult expected = train::Trainer(lone, split).run();
    EXPECT_EQ(state.result->test_loss, expected.test_loss);
    EXPECT_EQ(state.result->test_accuracy, expected.test_accuracy);
    EXPECT_EQ(state.result->steps, expected.steps);
    EXPECT_EQ(state.result->rank, "0");
  }
  EXPECT_EQ(log.str().find("failed"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("run 0003 finished (scheme=fp16-mixed seed=2): test_accuracy="),
            std::string::npos)
      << log.str();
  const auto table = traces::read_summary_table(dir / "two" / "summary.h5");
  EXPECT_EQ(std::get<std::vector<std::string>>(table.at(1).values),
            std::vector<std::string>(4, "finished"));
  std::ifstream copy(dir / "two" / "sweep.toml");
  std::stringstream text;
  text << copy.rdbuf();
  EXPECT_EQ(text.str(), kTinySweep);
}

TEST(SweepRunner, AFinishedTraceCountsOnlyForItsConfiguration) {
  const test::ScratchDir dir;
  const Runs runs = expand(parse_sweep(kTinySweep, "tiny.toml"));
  const data::Split split = train::load_data(train::parse_data_spec("synthetic"), 128, 64);
  train::TrainConfig config = runs[2].config;  // fp16-mixed, seed 1
  config.trace = (dir / "run.h5").string();
  config.labels = {{"sweep.rank", "3"}, {"sweep.host", "node7"}};
  train::Trainer(config, split).run();

  const auto result = finished_result(config.trace, runs[2].config);  // labels are not compared
  ASSERT_TRUE(result);
  EXPECT_EQ(result->rank, "3");
  EXPECT_EQ(result->host, "node7");
  EXPECT_EQ(result->steps, 4);

  train::TrainConfig other = runs[2].config;
  other.lr = 0.1;
  EXPECT_FALSE(finished_result(config.trace, other));
  other = runs[2].config;
  other.seed = 2;
  EXPECT_FALSE(finished_result(config.trace, other));
  other = runs[2].config;
  other.scheme_options["loss_scale"] = "torch";
  EXPECT_FALSE(finished_result(config.trace, other));
  EXPECT_FALSE(finished_result(dir / "missing.h5", runs[2].config));

  // A trace without /summary `finished`: a killed run.
  {
    traces::RunInfo info;
    info.config = train::config_entries(runs[2].config);
    info.seed = runs[2].config.seed;
    traces::TraceWriter writer(dir / "killed.h5", info);
    writer.append_step({.step = 0,
                        .epoch = 0,
                        .loss = 1,
                        .accuracy = 0,
                        .learning_rate = 0.1,
                        .loss_scale = 1,
                        .skipped = false,
                        .extras = {}});
  }
  EXPECT_FALSE(finished_result(dir / "killed.h5", runs[2].config));

  std::ofstream(dir / "junk.h5") << "not a trace";
  EXPECT_THROW(finished_result(dir / "junk.h5", runs[2].config), traces::TraceError);
}

TEST(SweepRunner, ResumeKeepsFinishedTracesAndRedoesTheRest) {
  const test::ScratchDir dir;
  const std::filesystem::path out = dir / "out";
  std::ostringstream log;
  sweep_into(out, 2, false, log);
  EXPECT_THROW(sweep_into(out, 2, false, log), SweepError);  // without --resume

  // Run 0001's trace replaced by junk, run 0002's removed: both are redone, 0000 and 0003 kept.
  const auto stamp = [&](const char* id) {
    return std::filesystem::last_write_time(out / "runs" / (std::string(id) + ".h5"));
  };
  const auto kept0 = stamp("0000"), kept3 = stamp("0003");
  std::ofstream(out / "runs" / "0001.h5") << "junk";
  std::filesystem::remove(out / "runs" / "0002.h5");
  std::ostringstream resume_log;
  const std::vector<RunState> states = sweep_into(out, 2, true, resume_log);
  for (const RunState& s : states) EXPECT_EQ(s.status, Status::finished) << s.failure;
  EXPECT_EQ(stamp("0000"), kept0);
  EXPECT_EQ(stamp("0003"), kept3);
  const std::string text = resume_log.str();
  EXPECT_NE(text.find("run 0001: trace"), std::string::npos) << text;  // the unreadable one
  EXPECT_NE(text.find("; redoing it"), std::string::npos) << text;
  EXPECT_NE(text.find("run 0001 finished"), std::string::npos) << text;
  EXPECT_NE(text.find("run 0002 finished"), std::string::npos) << text;
  EXPECT_EQ(text.find("run 0000 finished"), std::string::npos) << text;
  EXPECT_EQ(text.find("run 0003 finished"), std::string::npos) << text;
}

TEST(SweepRunner, AFailingRunIsAFailedRowNotAnError) {
  const test::ScratchDir dir;
  const SweepSpec spec = parse_sweep(kTinySweep, "tiny.toml");
  const Runs runs = expand(spec);
  SweepOptions options = options_for(dir / "out", 2);
  Cluster cluster;
  prepare_directory(spec, options, cluster);
  // A directory where run 0001's trace should go: its trace cannot be written.
  std::filesystem::create_directories(dir / "out" / "runs" / "0001.h5" / "x");
  std::ostringstream log;
  const std::vector<RunState> states =
      run_sweep(runs, std::vector<RunState>(runs.size()), options, cluster, log, false);
  for (const std::size_t i : {0, 2, 3}) EXPECT_EQ(states[i].status, Status::finished);
  EXPECT_EQ(states[1].status, Status::failed);
  EXPECT_NE(states[1].failure.find("0001.h5"), std::string::npos) << states[1].failure;
  EXPECT_NE(log.str().find("run 0001 failed (scheme=fp32 seed=2): "), std::string::npos)
      << log.str();
  const auto table = traces::read_summary_table(dir / "out" / "summary.h5");
  EXPECT_EQ(std::get<std::vector<std::string>>(table.at(1).values).at(1),
            "failed: " + states[1].failure);
}

}  // namespace
}  // namespace lpsim::sweep
