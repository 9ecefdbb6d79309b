#include "traces/summary_table.hpp"

#include <algorithm>
#include <set>
#include <system_error>
#include <type_traits>

#include "traces/hdf5_util.hpp"

namespace lpsim::traces {
namespace {

using detail::check;
using detail::Handle;

constexpr const char* kColumnsAttribute = "columns";

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

std::vector<const char*> c_strings(const std::vector<std::string>& texts) {
  std::vector<const char*> pointers;
  for (const std::string& t : texts) pointers.push_back(t.c_str());
  return pointers;
}

void write_column(hid_t group, const TableColumn& column, const std::filesystem::path& path) {
  const hsize_t rows = column.size();
  const Handle space(H5Screate_simple(1, &rows, nullptr), H5Sclose);
  const Handle string_type = utf8_string_type();
  struct Layout {
    hid_t file_type, memory_type;
    const void* data;
  };
  std::vector<const char*> strings;
  const Layout layout = std::visit(
      [&](const auto& values) -> Layout {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_same_v<T, double>) {
          return {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data()};
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return {H5T_STD_I64LE, H5T_NATIVE_INT64, values.data()};
        } else {
          strings = c_strings(values);
          return {string_type.get(), string_type.get(), strings.data()};
        }
      },
      column.values);
  const std::string what = "cannot write column " + column.name;
  const Handle dataset(check(H5Dcreate2(group, column.name.c_str(), layout.file_type, space.get(),
                                        H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             path, what),
                       H5Dclose);
  if (rows > 0)
    check(H5Dwrite(dataset.get(), layout.memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, layout.data),
          path, what);
  detail::write_attribute(dataset.get(), "units", column.units);
  detail::write_attribute(dataset.get(), "description", column.description);
}

void write_names(hid_t group, const std::vector<TableColumn>& columns,
                 const std::filesystem::path& path) {
  std::vector<std::string> names;
  for (const TableColumn& c : columns) names.push_back(c.name);
  const std::vector<const char*> pointers = c_strings(names);
  const hsize_t count = names.size();
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  const Handle type = utf8_string_type();
  const Handle attribute(
      check(H5Acreate2(group, kColumnsAttribute, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
            path, "cannot write the column names"),
      H5Aclose);
  check(H5Awrite(attribute.get(), type.get(), pointers.data()), path,
        "cannot write the column names");
}

// The strings of a variable-length string dataset or attribute, read by `read`.
template <class Read>
std::vector<std::string> read_strings(hid_t space, Read&& read) {
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  std::vector<char*> pointers(std::size_t(std::max<hssize_t>(count, 0)), nullptr);
  const Handle type = utf8_string_type();
  std::vector<std::string> texts;
  if (read(type.get(), pointers.data()) < 0) return texts;
  for (char* p : pointers) texts.emplace_back(p != nullptr ? p : "");
  H5Dvlen_reclaim(type.get(), space, H5P_DEFAULT, pointers.data());
  return texts;
}

TableColumn read_column(hid_t group, const std::string& name, const std::filesystem::path& path) {
  const std::string what = "cannot read column " + name;
  const Handle dataset(check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), path, what), H5Dclose);
  const Handle space(check(H5Dget_space(dataset.get()), path, what), H5Sclose);
  const Handle type(check(H5Dget_type(dataset.get()), path, what), H5Tclose);
  TableColumn column{.name = name, .units = "", .description = "", .values = {}};
  for (auto [attribute, text] :
       {std::pair{"units", &column.units}, std::pair{"description", &column.description}}) {
    if (!detail::has_attribute(dataset.get(), attribute)) continue;
    const SummaryValue value = detail::read_attribute(dataset.get(), attribute);
    if (const auto* s = std::get_if<std::string>(&value)) *text = *s;
  }
  const std::size_t rows = std::size_t(H5Sget_simple_extent_npoints(space.get()));
  const auto read_numbers = [&](auto values, hid_t memory_type) {
    if (rows > 0)
      check(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
            what);
    column.values = std::move(values);
  };
  switch (H5Tget_class(type.get())) {
    case H5T_FLOAT:
      read_numbers(std::vector<double>(rows), H5T_NATIVE_DOUBLE);
      break;
    case H5T_INTEGER:
      read_numbers(std::vector<std::int64_t>(rows), H5T_NATIVE_INT64);
      break;
    case H5T_STRING:
      column.values = read_strings(space.get(), [&](hid_t memory_type, char** out) {
        return H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
      });
      if (column.size() != rows) detail::fail(path, what);
      break;
    default:
      detail::fail(path, what + ": neither numbers nor strings");
  }
  return column;
}

}  // namespace

void write_summary_table(const std::filesystem::path& path,
                         const std::vector<TableColumn>& columns) {
  std::set<std::string> names;
  for (const TableColumn& c : columns) {
    if (!names.insert(c.name).second || !usable_name(c.name))
      throw TraceError("summary " + path.string() + ": bad or repeated column name '" + c.name +
                       "'");
    if (c.size() != columns.front().size())
      throw TraceError("summary " + path.string() + ": column " + c.name + " has " +
                       std::to_string(c.size()) + " rows, " + columns.front().name + " " +
                       std::to_string(columns.front().size()));
  }
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    const detail::QuietHdf5Errors quiet;
    const Handle file(check(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                            path, "cannot create " + temporary.string()),
                      H5Fclose);
    detail::write_attribute(file.get(), "description",
                            "lpsim sweep summary: one row per run in /runs (docs/sweeps.md)");
    const Handle group(check(H5Gcreate2(file.get(), std::string(kSummaryTableGroup).c_str(),
                                        H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             path, "cannot create /runs"),
                       H5Gclose);
    detail::write_attribute(group.get(), "description",
                            "one row per run; the columns, in order, are in `columns`");
    write_names(group.get(), columns, path);
    for (const TableColumn& c : columns) write_column(group.get(), c, path);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error)
    throw TraceError("summary " + path.string() + ": cannot rename from " + temporary.string() +
                     " (" + error.message() + ")");
}

std::vector<TableColumn> read_summary_table(const std::filesystem::path& path) {
  const detail::QuietHdf5Errors quiet;
  const Handle file(
      check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "cannot open the file"),
      H5Fclose);
  const Handle group(
      check(H5Gopen2(file.get(), std::string(kSummaryTableGroup).c_str(), H5P_DEFAULT), path,
            "no group /runs"),
      H5Gclose);
  const Handle attribute(check(H5Aopen(group.get(), kColumnsAttribute, H5P_DEFAULT), path,
                               "no attribute columns in /runs"),
                         H5Aclose);
  const Handle space(H5Aget_space(attribute.get()), H5Sclose);
  const std::vector<std::string> names = read_strings(
      space.get(),
      [&](hid_t memory_type, char** out) { return H5Aread(attribute.get(), memory_type, out); });
  if (hssize_t(names.size()) != H5Sget_simple_extent_npoints(space.get()))
    detail::fail(path, "cannot read the attribute columns of /runs");
  std::vector<TableColumn> columns;
  for (const std::string& name : names) columns.push_back(read_column(group.get(), name, path));
  return columns;
}

}  // namespace lpsim::traces
