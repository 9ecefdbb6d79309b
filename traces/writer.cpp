// How a trace survives a kill at any moment (measurements in traces/SCHEMA.md):
// - The file is in SWMR-write mode: HDF5 writes metadata children before their parents, writes
//   each metadata block with its own pwrite, and never reuses the space of a replaced chunk, so
//   the file is always a consistent HDF5 file, provided each block lands whole.
// - A SIGKILL can cut a pwrite short between two memory pages, so a block rewritten in place
//   across a page boundary could land half old, half new. Paged file-space allocation, with the
//   OS page size, keeps every block smaller than a page inside one page. The blocks a flush
//   rewrites in place are all that small until a column has about 8,180 chunks (then extensible-
//   array data blocks reach 7 KB); a compressed chunk is never rewritten in place (ChunkEncoder).
// - A flush writes finished chunks (H5Dwrite_chunk: raw data reaches the file before the
//   metadata pointing to it) in three phases, each ended by H5Fflush: every data column, then the
//   `step` column of each tensor group, then /steps/step. A group's rows are committed when its
//   `step` column has them, so a kill mid-flush leaves at most some data columns longer than
//   `step` (readers ignore the excess), and every committed step's tensor rows are committed.
// - Structural changes (new groups, columns, attributes) are not allowed in SWMR mode, so they
//   are made in a copy of the closed file that is then renamed over it (the file is small then:
//   new columns appear at the first flush unless declared late).
#include "traces/writer.hpp"

#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <ctime>
#include <iostream>
#include <limits>
#include <stdexcept>

#include "traces/chunk_encoder.hpp"
#include "traces/hdf5_util.hpp"

#ifndef LPSIM_VERSION
#error "LPSIM_VERSION must be defined by the build"
#endif

namespace lpsim::traces {

// Generated at build time (traces/CMakeLists.txt).
extern const char* const kBuildGitHash;

const std::string& build_version() {
  static const std::string version = LPSIM_VERSION;
  return version;
}

const std::string& build_git_hash() {
  static const std::string hash = kBuildGitHash;
  return hash;
}

namespace {

using detail::check;
using detail::Handle;

// Chunks hold the rows of one flush (flush_every for /steps, the row count of its first flush for
// a tensor group), so a flush rarely rewrites a partial chunk: in SWMR mode each rewrite leaves
// the old copy as dead space.
constexpr hsize_t kMaxChunkRows = 4096;

const char* const kReservedConfigKeys[] = {"seed", "lpsim_version", "git_hash", "created",
                                           "description"};

std::uint64_t word(double v) { return std::bit_cast<std::uint64_t>(v); }
std::uint64_t word(std::int64_t v) { return static_cast<std::uint64_t>(v); }
std::uint64_t word(const Value& v) {
  return std::visit([](auto x) { return word(x); }, v);
}

std::uint64_t missing_word(ColumnType type) {
  return type == ColumnType::float64 ? word(std::numeric_limits<double>::quiet_NaN())
                                     : word(kMissingInt64);
}

hid_t file_type(ColumnType type) {
  return type == ColumnType::float64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
}

ColumnType type_of(const Value& v) {
  return std::holds_alternative<double>(v) ? ColumnType::float64 : ColumnType::int64;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Handle latest_format_access() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);  // SWMR needs it
  // HDF5 1.10's SWMR writer fails ("Child entry doesn't have a flush dependency parent array")
  // once the metadata cache evicts entries of its thousands of open datasets: a cache large
  // enough for all of them (traces with ~300 tensor groups) never evicts.
  H5AC_cache_config_t cache{};
  cache.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  H5Pget_mdc_config(fapl.get(), &cache);
  cache.set_initial_size = true;
  cache.initial_size = cache.max_size = std::size_t{128} << 20;
  cache.incr_mode = H5C_incr__off;
  cache.decr_mode = H5C_decr__off;
  cache.flash_incr_mode = H5C_flash_incr__off;
  H5Pset_mdc_config(fapl.get(), &cache);
  return fapl;
}

struct Column {
  explicit Column(ColumnSpec s, bool is_extra) : spec(std::move(s)), extra(is_extra) {}

  ColumnSpec spec;
  bool extra;
  Handle dataset;                         // set once the column exists in the file
  std::vector<std::uint64_t> tail;        // rows of the last, partial chunk already in the file
  std::size_t tail_compressed_size = 0;   // its size in the file if stored compressed, else 0
  std::vector<std::uint64_t> pending;     // rows not written yet

  std::uint64_t missing() const { return missing_word(spec.type); }
};

struct Group {
  std::string path;  // "steps" or "tensors/<layer>/<role>"
  std::string layer, role;
  std::vector<Column> columns;  // the fixed columns in schema order (`step` first), then extras
  hsize_t rows_on_disk = 0;
  std::size_t pending_rows = 0;
  hsize_t chunk_rows = 0;  // 0 until the group exists in the file

  Column* find(std::string_view name) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return c.spec.name == name; });
    return it == columns.end() ? nullptr : &*it;
  }
};

Group make_group(std::string path, const std::vector<ColumnSpec>& fixed) {
  Group g;
  g.path = std::move(path);
  for (const ColumnSpec& spec : fixed) g.columns.emplace_back(spec, false);
  return g;
}

void validate_spec(const ColumnSpec& spec, const std::vector<ColumnSpec>& fixed) {
  if (!usable_name(spec.name) || spec.units.empty() || spec.description.empty()) {
    throw std::invalid_argument("extra column '" + spec.name +
                                "' needs a name without '/', units and a description");
  }
  for (const ColumnSpec& f : fixed) {
    if (f.name == spec.name) {
      throw std::invalid_argument("extra column '" + spec.name + "' is a fixed column");
    }
  }
}

void declare(std::map<std::string, ColumnSpec>& declared, const ColumnSpec& spec,
             const std::vector<ColumnSpec>& fixed) {
  validate_spec(spec, fixed);
  auto [it, inserted] = declared.emplace(spec.name, spec);
  if (!inserted && it->second != spec) {
    throw std::invalid_argument("extra column '" + spec.name +
                                "' was declared before with another type, units or description");
  }
}

// Appends one row: `fixed` holds the fixed columns' cells in order. Checks everything before
// changing anything, so a bad row leaves the group as it was.
void append_row(Group& g, std::span<const std::uint64_t> fixed, const Extras& extras,
                const std::map<std::string, ColumnSpec>& declared) {
  for (std::size_t i = 0; i < extras.size(); ++i) {
    const auto& [name, value] = extras[i];
    auto spec = declared.find(name);
    if (spec == declared.end()) {
      throw std::invalid_argument("extra column '" + name + "' of " + g.path +
                                  " was not declared");
    }
    if (spec->second.type != type_of(value)) {
      throw std::invalid_argument("extra column '" + name + "' of " + g.path + " holds " +
                                  (spec->second.type == ColumnType::float64 ? "doubles"
                                                                            : "int64 values"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (extras[j].first == name) {
        throw std::invalid_argument("extra column '" + name + "' given twice in one row");
      }
    }
  }
  for (std::size_t i = 0; i < fixed.size(); ++i) g.columns[i].pending.push_back(fixed[i]);
  for (const auto& [name, value] : extras) {
    Column* column = g.find(name);
    if (column == nullptr) {
      Column added(declared.at(name), true);
      const std::uint64_t missing = added.missing();
      if (g.chunk_rows > 0) added.tail.assign(g.rows_on_disk % g.chunk_rows, missing);
      added.pending.assign(g.pending_rows, missing);
      g.columns.push_back(std::move(added));
      column = &g.columns.back();
    }
    column->pending.push_back(word(value));
  }
  ++g.pending_rows;
  for (Column& c : g.columns) {
    if (c.pending.size() < g.pending_rows) c.pending.push_back(c.missing());
  }
}

}  // namespace

struct TraceWriter::State {
  std::filesystem::path path;
  WriterOptions options;
  detail::ChunkEncoder encoder;
  Handle file;
  std::vector<Group> groups;  // groups[0] is /steps
  std::map<std::string, std::size_t> tensor_groups;
  std::map<std::string, ColumnSpec> step_extras, tensor_extras;
  int steps_since_flush = 0;
  std::optional<std::int64_t> last_step;
  bool closed = false;
  bool failed = false;  // an error left the file in an unknown state: refuse further work

  State(std::filesystem::path p, WriterOptions o)
      : path(std::move(p)), options(o), encoder(o.deflate_level) {
    groups.push_back(make_group(std::string(kStepsGroup), step_columns()));
  }

  std::filesystem::path staging_path() const { return path.string() + ".writing"; }

  void create(const RunInfo& run);
  bool structure_complete() const;
  void restructure(const std::map<std::string, SummaryValue>& summary);
  Handle create_group(const std::string& group_path, const std::string& description);
  void create_tensor_group(const Group& g);
  void create_column(Group& g, Column& c);
  void write_column(Group& g, Column& c);
  void flush();
  void close();
  void flush_file(std::string_view what) {
    check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), path, what);
  }

  // Runs `work`, turning the std::runtime_error of detail's attribute helpers into TraceErrors.
  template <class Work>
  void naming_file(Work&& work) {
    try {
      work();
    } catch (const TraceError&) {
      throw;
    } catch (const std::runtime_error& e) {
      detail::fail(path, e.what());
    }
  }

  // Starts SWMR writing on the staging file and renames it over the trace.
  void publish(const std::filesystem::path& staging) {
    check(H5Fstart_swmr_write(file.get()), path, "cannot start SWMR writing");
    std::error_code error;
    std::filesystem::rename(staging, path, error);
    if (error) {
      throw TraceError("trace " + path.string() + ": cannot rename from " + staging.string() +
                       " (" + error.message() + ")");
    }
  }

  // Runs `work` on a usable writer; an error other than a rejected argument marks it failed.
  template <class Work>
  void guarded(Work&& work) {
    if (closed) throw std::logic_error("trace " + path.string() + " is closed");
    if (failed) throw std::logic_error("trace " + path.string() + " failed earlier");
    const detail::QuietHdf5Errors quiet;
    try {
      work();
    } catch (const std::invalid_argument&) {
      throw;  // a rejected row or declaration changes nothing
    } catch (...) {
      failed = true;
      throw;
    }
  }
};

void TraceWriter::State::create(const RunInfo& run) {
  for (const auto& [key, value] : run.config) {
    const bool reserved = std::find(std::begin(kReservedConfigKeys), std::end(kReservedConfigKeys),
                                    key) != std::end(kReservedConfigKeys);
    if (key.empty() || reserved) {
      throw std::invalid_argument("config key '" + key + "' is empty or reserved");
    }
  }
  const std::filesystem::path staging = staging_path();
  const Handle fapl = latest_format_access();
  // Paged allocation keeps every block smaller than a page inside one page (see the top).
  const Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_PAGE, 0, 1);
  H5Pset_file_space_page_size(fcpl.get(), hsize_t(sysconf(_SC_PAGESIZE)));
  file = Handle(check(H5Fcreate(staging.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), path,
                      "cannot create the file"),
                H5Fclose);
  naming_file([&] {
    detail::write_attribute(file.get(), "schema_version", kSchemaVersion);
    detail::write_attribute(file.get(), "description",
                            "lpsim training trace: one run's per-step numerics. /config: the run's "
                            "configuration; /steps: one row per optimizer step; /tensors/<layer>/"
                            "<role>: one row per conversion of a tensor; /summary: final metrics. "
                            "Every dataset has `units` and `description` attributes. A group's "
                            "rows are the leading entries of its `step` column that are >= 0 "
                            "(other columns can be longer after a kill during a flush).");
    const Handle config = create_group(std::string(kConfigGroup),
                                       "The run's resolved configuration (key = value as text), "
                                       "seed, lpsim version and git commit");
    for (const auto& [key, value] : run.config) detail::write_attribute(config.get(), key, value);
    detail::write_attribute(config.get(), "seed", run.seed);
    detail::write_attribute(config.get(), "lpsim_version", run.lpsim_version);
    detail::write_attribute(config.get(), "git_hash", run.git_hash);
    detail::write_attribute(config.get(), "created", utc_now());
    create_group(std::string(kStepsGroup), "One row per optimizer step");
    Group& steps = groups[0];
    steps.chunk_rows = std::min<hsize_t>(hsize_t(options.flush_every), kMaxChunkRows);
    for (Column& c : steps.columns) create_column(steps, c);
    create_group(std::string(kTensorsGroup),
                 "One group per layer, one subgroup per tensor role, one row per conversion");
    create_group(std::string(kSummaryGroup), "Final metrics as attributes; `finished` is absent "
                                             "when the run did not finish (killed or failed)");
  });
  publish(staging);
}

bool TraceWriter::State::structure_complete() const {
  for (const Group& g : groups) {
    if (g.pending_rows == 0) continue;
    if (g.chunk_rows == 0) return false;
    for (const Column& c : g.columns) {
      if (!c.dataset) return false;
    }
  }
  return true;
}

Handle TraceWriter::State::create_group(const std::string& group_path,
                                        const std::string& description) {
  Handle group(check(H5Gcreate2(file.get(), group_path.c_str(), H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT),
                     path, "cannot create group /" + group_path),
               H5Gclose);
  detail::write_attribute(group.get(), "description", description);
  return group;
}

void TraceWriter::State::create_tensor_group(const Group& g) {
  const std::string layer_path = std::string(kTensorsGroup) + "/" + g.layer;
  if (H5Lexists(file.get(), layer_path.c_str(), H5P_DEFAULT) <= 0) {
    const Handle layer = create_group(layer_path, "Tensors of layer " + g.layer);
    detail::write_attribute(layer.get(), "layer", g.layer);
  }
  const Handle group =
      create_group(g.path, "One row per conversion of the " + g.role + " of layer " + g.layer);
  detail::write_attribute(group.get(), "layer", g.layer);
  detail::write_attribute(group.get(), "role", g.role);
}

void TraceWriter::State::create_column(Group& g, Column& c) {
  const hsize_t rows = g.rows_on_disk, unlimited = H5S_UNLIMITED;
  const Handle space(H5Screate_simple(1, &rows, &unlimited), H5Sclose);
  const Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const std::uint64_t missing = c.missing();
  H5Pset_chunk(dcpl.get(), 1, &g.chunk_rows);
  H5Pset_shuffle(dcpl.get());
  H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.deflate_level));
  H5Pset_fill_value(dcpl.get(), file_type(c.spec.type), &missing);
  const std::string name = g.path + "/" + c.spec.name;
  c.dataset = Handle(check(H5Dcreate2(file.get(), name.c_str(), file_type(c.spec.type),
                                      space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                           path, "cannot create dataset " + name),
                     H5Dclose);
  const hid_t ds = c.dataset.get();
  detail::write_attribute(ds, "units", c.spec.units);
  detail::write_attribute(ds, "description", c.spec.description);
  if (c.extra) {
    if (c.spec.type == ColumnType::float64) {
      detail::write_attribute(ds, "_FillValue", std::numeric_limits<double>::quiet_NaN());
    } else {
      detail::write_attribute(ds, "_FillValue", kMissingInt64);
    }
  }
  // Dimension scales make `step` the coordinate of its group for netCDF readers (xarray).
  if (&c == &g.columns[0]) {
    check(H5DSset_scale(ds, std::string(kStepColumn).c_str()), path,
          "cannot make " + name + " a dimension scale");
  } else {
    check(H5DSattach_scale(ds, g.columns[0].dataset.get(), 0), path,
          "cannot attach the step scale to " + name);
  }
}

void TraceWriter::State::restructure(const std::map<std::string, SummaryValue>& summary) {
  for (Group& g : groups) {
    for (Column& c : g.columns) c.dataset.reset();
  }
  check(H5Fclose(file.release()), path, "cannot close the file");
  const std::filesystem::path staging = staging_path();
  std::error_code error;
  std::filesystem::copy_file(path, staging, std::filesystem::copy_options::overwrite_existing,
                             error);
  if (error) throw TraceError("trace " + path.string() + ": cannot copy to " + staging.string() +
                              " (" + error.message() + ")");
  const Handle fapl = latest_format_access();
  file = Handle(check(H5Fopen(staging.c_str(), H5F_ACC_RDWR, fapl.get()), path,
                      "cannot reopen the file"),
                H5Fclose);
  naming_file([&] {
    for (Group& g : groups) {
      if (g.chunk_rows == 0 && g.pending_rows > 0) {
        g.chunk_rows = std::min<hsize_t>(g.pending_rows, kMaxChunkRows);
        create_tensor_group(g);
      }
      if (g.chunk_rows == 0) continue;
      for (Column& c : g.columns) {
        const std::string name = g.path + "/" + c.spec.name;
        if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) > 0) {
          c.dataset = Handle(check(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), path,
                                   "cannot open dataset " + name),
                             H5Dclose);
        } else {
          create_column(g, c);
        }
      }
    }
    if (!summary.empty()) {
      const Handle group(check(H5Gopen2(file.get(), std::string(kSummaryGroup).c_str(),
                                        H5P_DEFAULT),
                               path, "cannot open /summary"),
                         H5Gclose);
      for (const auto& [name, value] : summary) {
        detail::write_value_attribute(group.get(), name, value);
      }
    }
  });
  publish(staging);
}

void TraceWriter::State::write_column(Group& g, Column& c) {
  const hsize_t rows = g.rows_on_disk + g.pending_rows;
  check(H5Dset_extent(c.dataset.get(), &rows), path,
        "cannot extend " + g.path + "/" + c.spec.name);
  // `tail` then `pending` are the rows from the start of the first chunk to write.
  std::vector<std::uint64_t> values = std::move(c.tail);
  values.insert(values.end(), c.pending.begin(), c.pending.end());
  const hsize_t first_row = g.rows_on_disk - g.rows_on_disk % g.chunk_rows;
  std::vector<std::uint64_t> chunk(g.chunk_rows);
  const std::size_t rewritten_size = c.tail_compressed_size;  // of the chunk at `first_row`
  c.tail_compressed_size = 0;
  for (std::size_t begin = 0; begin < values.size(); begin += g.chunk_rows) {
    const std::size_t end = std::min<std::size_t>(begin + g.chunk_rows, values.size());
    std::copy(values.begin() + begin, values.begin() + end, chunk.begin());
    std::fill(chunk.begin() + (end - begin), chunk.end(), c.missing());
    const detail::ChunkEncoder::Encoded encoded =
        encoder.encode(chunk, begin == 0 ? rewritten_size : 0);
    const hsize_t offset = first_row + begin;
    check(H5Dwrite_chunk(c.dataset.get(), H5P_DEFAULT, encoded.filter_mask, &offset,
                         encoded.bytes.size(), encoded.bytes.data()),
          path, "cannot write " + g.path + "/" + c.spec.name);
    if (end - begin < g.chunk_rows && encoded.filter_mask == 0) {
      c.tail_compressed_size = encoded.bytes.size();
    }
  }
  c.tail.assign(values.end() - static_cast<std::ptrdiff_t>(rows % g.chunk_rows), values.end());
  c.pending.clear();
}

void TraceWriter::State::flush() {
  const bool anything = std::any_of(groups.begin(), groups.end(),
                                    [](const Group& g) { return g.pending_rows > 0; });
  if (!anything) return;
  if (!structure_complete()) restructure({});
  for (Group& g : groups) {
    if (g.pending_rows == 0) continue;
    for (std::size_t i = 1; i < g.columns.size(); ++i) write_column(g, g.columns[i]);
  }
  flush_file("cannot flush the data columns");
  for (std::size_t i = 1; i < groups.size(); ++i) {
    if (groups[i].pending_rows > 0) write_column(groups[i], groups[i].columns[0]);
  }
  flush_file("cannot flush the tensor step columns");
  if (groups[0].pending_rows > 0) write_column(groups[0], groups[0].columns[0]);
  flush_file("cannot flush /steps/step");
  for (Group& g : groups) {
    g.rows_on_disk += g.pending_rows;
    g.pending_rows = 0;
  }
  steps_since_flush = 0;
}

void TraceWriter::State::close() {
  flush();
  for (Group& g : groups) {
    for (Column& c : g.columns) c.dataset.reset();
  }
  check(H5Fclose(file.release()), path, "cannot close the file");
  closed = true;
}

TraceWriter::TraceWriter(std::filesystem::path path, const RunInfo& run, WriterOptions options) {
  if (options.flush_every < 1 || options.deflate_level < 1 || options.deflate_level > 9) {
    throw std::invalid_argument("flush_every must be >= 1 and deflate_level in 1..9");
  }
  const detail::QuietHdf5Errors quiet;
  state_ = std::make_unique<State>(std::move(path), options);
  state_->create(run);
}

TraceWriter::~TraceWriter() {
  if (!state_ || state_->closed || state_->failed) return;
  try {
    close();
  } catch (const std::exception& e) {
    std::cerr << "lpsim traces: " << e.what() << "\n";
  }
}

void TraceWriter::declare_step_column(const ColumnSpec& spec) {
  state_->guarded([&] { declare(state_->step_extras, spec, step_columns()); });
}

void TraceWriter::declare_tensor_column(const ColumnSpec& spec) {
  state_->guarded([&] { declare(state_->tensor_extras, spec, tensor_columns()); });
}

void TraceWriter::append_step(const StepRow& row) {
  state_->guarded([&] {
    State& s = *state_;
    if (row.step < 0 || (s.last_step && row.step <= *s.last_step)) {
      throw std::invalid_argument("step " + std::to_string(row.step) +
                                  " must be >= 0 and greater than the previous step");
    }
    const std::uint64_t fixed[] = {word(row.step),          word(row.epoch),
                                   word(row.loss),          word(row.accuracy),
                                   word(row.learning_rate), word(row.loss_scale),
                                   word(std::int64_t{row.skipped})};
    static_assert(std::size(fixed) == 7);
    append_row(s.groups[0], fixed, row.extras, s.step_extras);
    s.last_step = row.step;
    if (++s.steps_since_flush >= s.options.flush_every) s.flush();
  });
}

void TraceWriter::append_tensor(const TensorRow& row) {
  state_->guarded([&] {
    State& s = *state_;
    std::string path = tensor_group(row.layer, row.role);
    if (row.step < 0 || row.elements < 0) {
      throw std::invalid_argument(path + ": step and elements must be >= 0");
    }
    std::vector<std::uint64_t> fixed = {
        word(row.step), word(row.elements),
        word(row.shared_exponent ? double(*row.shared_exponent)
                                 : std::numeric_limits<double>::quiet_NaN()),
        word(row.max_abs)};
    for (const CountColumn& count : count_columns()) {
      const std::uint64_t n = row.counts.*count.field;
      if (n > std::uint64_t{std::numeric_limits<std::int64_t>::max()}) {
        throw std::invalid_argument(path + ": count " + std::string(count.name) + " too large");
      }
      fixed.push_back(n);
    }
    auto [it, inserted] = s.tensor_groups.emplace(path, s.groups.size());
    if (inserted) {
      Group g = make_group(path, tensor_columns());
      g.layer = row.layer;
      g.role = row.role;
      s.groups.push_back(std::move(g));
    }
    append_row(s.groups[it->second], fixed, row.extras, s.tensor_extras);
  });
}

void TraceWriter::flush() {
  state_->guarded([&] { state_->flush(); });
}

void TraceWriter::write_summary(const std::map<std::string, SummaryValue>& metrics) {
  state_->guarded([&] {
    for (const auto& [name, value] : metrics) {
      if (name.empty() || name == "finished" || name == "description") {
        throw std::invalid_argument("summary name '" + name + "' is empty or reserved");
      }
    }
    std::map<std::string, SummaryValue> attributes = metrics;
    attributes["finished"] = utc_now();
    state_->flush();
    state_->restructure(attributes);
  });
}

void TraceWriter::close() {
  if (state_->closed) return;
  state_->guarded([&] { state_->close(); });
}

const std::filesystem::path& TraceWriter::path() const { return state_->path; }

std::int64_t TraceWriter::steps_on_disk() const {
  return static_cast<std::int64_t>(state_->groups[0].rows_on_disk);
}

}  // namespace lpsim::traces
