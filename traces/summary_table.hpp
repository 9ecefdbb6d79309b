// A sweep's summary.h5 (docs/sweeps.md): one table, group /runs, one 1-D dataset per column
// (float64, int64 or variable-length UTF-8 strings) with `units` and `description` attributes,
// and the column order as the group's `columns` attribute (an array of strings). h5py:
//   with h5py.File("summary.h5") as f:
//       df = pd.DataFrame({c: f["runs"][c].asstr()[:] if f["runs"][c].dtype == object
//                             else f["runs"][c][:] for c in f["runs"].attrs["columns"]})
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lpsim::traces {

inline constexpr std::string_view kSummaryTableGroup = "runs";

// Missing cells: NaN, kMissingInt64 (traces/schema.hpp) or "".
struct TableColumn {
  std::string name, units, description;
  std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>> values;

  std::size_t size() const {
    return std::visit([](const auto& v) { return v.size(); }, values);
  }
};

// Writes the table to `path` through a temporary file renamed over it, so that a reader (or a
// kill) never sees it half written. Columns must have distinct names and equal sizes. Throws
// TraceError naming the file.
void write_summary_table(const std::filesystem::path& path,
                         const std::vector<TableColumn>& columns);

// Reads a table written by write_summary_table; throws TraceError naming the file.
std::vector<TableColumn> read_summary_table(const std::filesystem::path& path);

}  // namespace lpsim::traces
