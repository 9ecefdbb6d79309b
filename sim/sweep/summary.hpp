// A sweep's summary: DIR/summary.csv and DIR/summary.h5 (one row per run, same columns;
// docs/sweeps.md), and the comparison table printed at the end.
#pragma once
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/sweep/expand.hpp"
#include "sim/sweep/run_result.hpp"
#include "traces/summary_table.hpp"

namespace lpsim::sweep {

struct RunState {
  enum class Status { pending, finished, failed } status = Status::pending;
  std::string failure;              // failed: why, one line
  std::optional<RunResult> result;  // finished
};

// run, status, trace, rank, host; the configuration (train::config_entries, seed); every scheme
// option given to any run, `scheme_option.<key>`; the final metrics; the count totals.
// Configuration columns whose values all read as integers are int64, as numbers float64,
// otherwise strings.
std::vector<traces::TableColumn> summary_columns(const std::vector<Run>& runs,
                                                 const std::vector<RunState>& states);

// RFC 4180: a header line, then one line per row; numbers in their shortest exact form, missing
// cells empty.
void write_csv(std::ostream& out, const std::vector<traces::TableColumn>& columns);

// Writes DIR/summary.csv and DIR/summary.h5, each through a temporary file renamed over it.
void write_summary(const std::filesystem::path& dir, const std::vector<Run>& runs,
                   const std::vector<RunState>& states);

// One line per run: scheme, the axis values that are not scheme or seed, seed, test accuracy and
// its difference from the fp32 run with the same other values (percentage points), images/s,
// overflow + saturated + wrapped counts, flushed-to-zero counts.
void print_comparison(std::ostream& out, const std::vector<Run>& runs,
                      const std::vector<RunState>& states);

}  // namespace lpsim::sweep
