// The sweep's progress line and its ETA.
#include <gtest/gtest.h>

#include "sim/sweep/sweep_progress.hpp"

namespace lpsim::sweep {
namespace {

TEST(SweepProgress, EtaFromFinishedRunsSharedAmongJobs) {
  ProgressSnapshot s;
  s.total = 10;
  s.done = 4;  // one kept from an earlier invocation: no time
  s.jobs = 2;
  s.finished_seconds = {10, 20, 30};  // mean 20
  s.running = {{"0004", 0.25, 5}, {"0005", 0.5, 10}};
  // 4 left at 20 s, and 15 + 10 s of the running ones, over 2 jobs.
  EXPECT_DOUBLE_EQ(eta_seconds(s), (4 * 20 + 15 + 10) / 2.0);
  EXPECT_EQ(progress_text(s), "runs 4/10 done, 2 running (0004 25%, 0005 50%), 4 left, ETA 0:53");
  s.failed = 1;
  EXPECT_EQ(progress_text(s).substr(0, 33), "runs 4/10 done, 1 failed, 2 runni");
}

TEST(SweepProgress, EtaBeforeAnyRunFinishes) {
  ProgressSnapshot s;
  s.total = 3;
  s.jobs = 1;
  s.running = {{"0000", 0.01, 1}};
  EXPECT_LT(eta_seconds(s), 0);  // 1% says too little
  EXPECT_EQ(progress_text(s), "runs 0/3 done, 1 running (0000 1%), 2 left, ETA ?");
  s.running = {{"0000", 0.5, 10}};  // 20 s a run
  EXPECT_DOUBLE_EQ(eta_seconds(s), 2 * 20 + 10);
}

}  // namespace
}  // namespace lpsim::sweep
