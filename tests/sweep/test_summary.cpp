// The summary: its columns and their types, the CSV (RFC 4180), summary.h5 written and read back,
// and the comparison table's difference from the fp32 run.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "sim/sweep/summary.hpp"
#include "tests/support/scratch_dir.hpp"
#include "traces/schema.hpp"

namespace lpsim::sweep {
namespace {

using traces::TableColumn;
using Runs = std::vector<Run>;  // gtest's Test::Run hides sweep::Run inside test bodies
using Status = RunState::Status;

Runs two_schemes() {
  return expand(parse_sweep(R"(
model = "mlp"
[axes]
scheme = ["fp32", "fp16-mixed"]
"fp16-mixed.loss_scale" = [1024]
)",
                            "s.toml"));
}

RunState finished(double accuracy) {
  RunResult r;
  r.test_accuracy = accuracy;
  r.images_per_second = 1234.4;
  r.steps = 10;
  r.overflow = 1;
  r.saturated = 2;
  r.wrapped = 3;
  r.nan = 4;
  r.flushed_to_zero = 5;
  r.rank = "0";
  r.host = "node1";
  return {Status::finished, "", r};
}

const TableColumn& column(const std::vector<TableColumn>& columns, const std::string& name) {
  for (const TableColumn& c : columns)
    if (c.name == name) return c;
  throw std::out_of_range("no column " + name);
}

TEST(Summary, ColumnsInOrderAndTyped) {
  const Runs runs = two_schemes();
  const std::vector<RunState> states = {finished(0.8), {Status::failed, "boom", {}}};
  const std::vector<TableColumn> columns = summary_columns(runs, states);
  std::vector<std::string> names;
  for (const TableColumn& c : columns) names.push_back(c.name);
  const std::vector<std::string> expected = {"run",
                                             "status",
                                             "trace",
                                             "rank",
                                             "host",
                                             "scheme",
                                             "model",
                                             "data",
                                             "epochs",
                                             "batch",
                                             "lr",
                                             "momentum",
                                             "weight_decay",
                                             "schedule",
                                             "lr_step_epochs",
                                             "lr_gamma",
                                             "record_every",
                                             "limit_train",
                                             "limit_test",
                                             "eval_batch",
                                             "seed",
                                             "scheme_option.loss_scale",
                                             "test_accuracy",
                                             "test_loss",
                                             "steps",
                                             "skipped_steps",
                                             "final_loss_scale",
                                             "images_per_second",
                                             "train_seconds",
                                             "seconds",
                                             "overflow",
                                             "saturated",
                                             "wrapped",
                                             "underflow",
                                             "flushed_to_zero",
                                             "nan"};
  EXPECT_EQ(names, expected);
  for (const TableColumn& c : columns) {
    EXPECT_EQ(c.size(), 2u) << c.name;
    EXPECT_FALSE(c.units.empty()) << c.name;
    EXPECT_FALSE(c.description.empty()) << c.name;
  }
  using Strings = std::vector<std::string>;
  using Ints = std::vector<std::int64_t>;
  using Floats = std::vector<double>;
  EXPECT_EQ(std::get<Strings>(column(columns, "run").values), (Strings{"0000", "0001"}));
  EXPECT_EQ(std::get<Strings>(column(columns, "status").values),
            (Strings{"finished", "failed: boom"}));
  EXPECT_EQ(std::get<Strings>(column(columns, "trace").values),
            (Strings{"runs/0000.h5", "runs/0001.h5"}));
  EXPECT_EQ(std::get<Ints>(column(columns, "rank").values), (Ints{0, traces::kMissingInt64}));
  EXPECT_EQ(std::get<Strings>(column(columns, "scheme").values), (Strings{"fp32", "fp16-mixed"}));
  EXPECT_EQ(std::get<Ints>(column(columns, "epochs").values), (Ints{5, 5}));
  EXPECT_EQ(std::get<Floats>(column(columns, "lr").values), (Floats{0.05, 0.05}));
  EXPECT_EQ(std::get<Ints>(column(columns, "seed").values), (Ints{1, 1}));
  EXPECT_EQ(std::get<Ints>(column(columns, "scheme_option.loss_scale").values),
            (Ints{traces::kMissingInt64, 1024}));
  const Floats accuracy = std::get<Floats>(column(columns, "test_accuracy").values);
  EXPECT_EQ(accuracy[0], 0.8);
  EXPECT_TRUE(std::isnan(accuracy[1]));
  EXPECT_EQ(std::get<Ints>(column(columns, "nan").values), (Ints{4, traces::kMissingInt64}));
}

TEST(Summary, CsvQuotesAndLeavesMissingCellsEmpty) {
  const std::vector<TableColumn> columns = {
      {"name", "1", "d", std::vector<std::string>{"plain", "failed: a, \"b\"", ""}},
      {"x", "1", "d", std::vector<double>{0.1, std::nan(""), 1e-300}},
      {"n", "count", "d", std::vector<std::int64_t>{-3, traces::kMissingInt64, 0}}};
  std::ostringstream csv;
  write_csv(csv, columns);
  EXPECT_EQ(csv.str(),
            "name,x,n\r\n"
            "plain,0.1,-3\r\n"
            "\"failed: a, \"\"b\"\"\",,\r\n"
            ",1e-300,0\r\n");
}

TEST(Summary, TableRoundTripsThroughHdf5) {
  const test::ScratchDir dir;
  const std::vector<TableColumn> columns = {
      {"run", "1", "run id", std::vector<std::string>{"0000", "0001 ü"}},
      {"lr", "1", "learning rate", std::vector<double>{0.05, std::nan("")}},
      {"steps", "step", "steps", std::vector<std::int64_t>{7, traces::kMissingInt64}}};
  traces::write_summary_table(dir / "summary.h5", columns);
  traces::write_summary_table(dir / "summary.h5", columns);  // replaces it
  EXPECT_FALSE(std::filesystem::exists(dir / "summary.h5.tmp"));
  const std::vector<TableColumn> back = traces::read_summary_table(dir / "summary.h5");
  ASSERT_EQ(back.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].name, columns[i].name);
    EXPECT_EQ(back[i].units, columns[i].units);
    EXPECT_EQ(back[i].description, columns[i].description);
  }
  EXPECT_EQ(back[0].values, columns[0].values);
  EXPECT_EQ(back[2].values, columns[2].values);
  const auto& lr = std::get<std::vector<double>>(back[1].values);
  EXPECT_EQ(lr[0], 0.05);
  EXPECT_TRUE(std::isnan(lr[1]));
}

TEST(Summary, TableRejectsRepeatedNamesAndRaggedColumns) {
  const test::ScratchDir dir;
  EXPECT_THROW(traces::write_summary_table(dir / "a.h5", {{"x", "1", "d", std::vector<double>{1}},
                                                          {"x", "1", "d", std::vector<double>{2}}}),
               traces::TraceError);
  EXPECT_THROW(
      traces::write_summary_table(dir / "b.h5", {{"x", "1", "d", std::vector<double>{1}},
                                                 {"y", "1", "d", std::vector<double>{1, 2}}}),
      traces::TraceError);
  EXPECT_THROW(traces::read_summary_table(dir / "missing.h5"), traces::TraceError);
}

TEST(Summary, ComparisonAgainstTheFp32RunOfTheSameSeed) {
  const Runs runs = expand(parse_sweep(R"(
model = "mlp"
[axes]
seed = [1, 2]
scheme = ["fp32", "fp16-mixed"]
"fp16-mixed.loss_scale" = ["apex", 1024]
)",
                                       "s.toml"));
  ASSERT_EQ(runs.size(), 6u);
  const std::vector<RunState> states = {finished(0.80), finished(0.8125), {Status::failed, "x", {}},
                                        finished(0.90), finished(0.85),   {}};
  std::ostringstream out;
  print_comparison(out, runs, states);
  // Columns: run scheme variant seed | test acc % | vs fp32 | images/s | overflow+sat+wrap |
  // flushed to 0.
  const std::string expected[] = {
      "run   scheme      variant          seed  test acc %  vs fp32  images/s  overflow+sat+wrap  "
      "flushed to 0",
      "0000  fp32                            1       80.00    +0.00      1234                  6  "
      "           5",
      "0001  fp16-mixed  loss_scale=apex     1       81.25    +1.25      1234                  6  "
      "           5",
      "0002  fp16-mixed  loss_scale=1024     1      failed",
      "0003  fp32                            2       90.00    +0.00      1234                  6  "
      "           5",
      "0004  fp16-mixed  loss_scale=apex     2       85.00    -5.00      1234                  6  "
      "           5",
      "0005  fp16-mixed  loss_scale=1024     2     not run",
      "vs fp32: points of test accuracy against the fp32 run with the same seed and settings "
      "(blank where the sweep has none)"};
  std::istringstream lines(out.str());
  std::string line;
  for (const std::string& e : expected) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(line, e);
  }
  EXPECT_FALSE(std::getline(lines, line));
}

}  // namespace
}  // namespace lpsim::sweep
