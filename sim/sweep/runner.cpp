#include "sim/sweep/runner.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>
#include <tuple>

#include "sim/sweep/sweep_progress.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/progress.hpp"
#include "sim/train/trainer.hpp"
#include "traces/schema.hpp"

namespace lpsim::sweep {
namespace {

using Clock = std::chrono::steady_clock;
using Status = RunState::Status;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool holds_runs(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir / "runs", error)) return false;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "runs", error))
    if (entry.path().extension() == ".h5") return true;
  return false;
}

bool own(const Run& run, const Cluster& cluster) {
  return run.index % std::size_t(cluster.size()) == std::size_t(cluster.rank());
}

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

std::string assignment_text(const Run& run) {
  std::string text;
  for (const auto& [axis, value] : run.assignment)
    text += (text.empty() ? "" : " ") + axis + "=" + value;
  return text;
}

using DataKey = std::tuple<std::string, std::int64_t, std::int64_t>;

DataKey data_key(const train::TrainConfig& c) { return {c.data, c.limit_train, c.limit_test}; }

// Records how far the run has come, for the progress line.
class StepCounter final : public train::TrainObserver {
 public:
  explicit StepCounter(std::atomic<double>& fraction) : fraction_(fraction) {}
  void on_step(const train::StepReport& r) override {
    fraction_ = double(r.step) / double(r.total_steps);
  }

 private:
  std::atomic<double>& fraction_;
};

// The worker threads and what the main thread learns from them.
class Pool {
 public:
  struct Done {
    std::size_t run;
    RunState state;
    double seconds;
  };

  Pool(const std::vector<Run>& runs, std::vector<std::size_t> todo, const SweepOptions& options,
       const Cluster& cluster)
      : runs_(runs),
        todo_(std::move(todo)),
        options_(options),
        slots_(std::size_t(std::min<std::size_t>(std::size_t(options.jobs), todo_.size()))) {
    for (const std::size_t i : todo_) {
      const DataKey key = data_key(runs_[i].config);
      if (data_.contains(key)) continue;
      const train::TrainConfig& c = runs_[i].config;
      data_[key] = std::make_shared<const data::Split>(
          train::load_data(train::parse_data_spec(c.data), c.limit_train, c.limit_test));
    }
    labels_ = {{std::string(kRankLabel), std::to_string(cluster.rank())},
               {std::string(kHostLabel), cluster.host()}};
    for (std::size_t s = 0; s < slots_.size(); ++s)
      workers_.emplace_back([this, s](std::stop_token stop) { work(slots_[s], stop); });
  }

  std::size_t size() const { return todo_.size(); }
  int jobs() const { return int(slots_.size()); }

  // Waits up to `timeout` for finished runs and takes them.
  std::vector<Done> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    done_signal_.wait_for(lock, timeout, [&] { return !done_.empty(); });
    return std::exchange(done_, {});
  }

  std::vector<ProgressSnapshot::Running> running() {
    std::lock_guard lock(mutex_);
    std::vector<ProgressSnapshot::Running> list;
    for (const Slot& s : slots_)
      if (s.run) list.push_back({runs_[*s.run].id, s.fraction.load(), seconds_since(s.start)});
    return list;
  }

 private:
  struct Slot {
    std::optional<std::size_t> run;  // guarded by mutex_
    Clock::time_point start;         // guarded by mutex_
    std::atomic<double> fraction = 0;
  };

  const std::vector<Run>& runs_;
  const std::vector<std::size_t> todo_;
  const SweepOptions& options_;
  std::map<DataKey, std::shared_ptr<const data::Split>> data_;
  std::vector<std::pair<std::string, std::string>> labels_;
  std::atomic<std::size_t> next_ = 0;
  std::mutex mutex_;
  std::condition_variable done_signal_;
  std::vector<Done> done_;  // guarded by mutex_
  std::vector<Slot> slots_;
  std::vector<std::jthread> workers_;  // last: joined before the rest goes

  RunState run_one(const Run& run, Slot& slot) {
    train::TrainConfig config = run.config;
    config.threads = options_.threads_per_run;
    config.trace = trace_path(options_.out, run).string();
    config.labels = labels_;
    config.labels.emplace_back(kRunLabel, run.id);
    try {
      train::Trainer trainer(config, *data_.at(data_key(config)));
      StepCounter counter(slot.fraction);
      trainer.run(&counter);
      std::optional<RunResult> result = finished_result(config.trace, config);
      if (!result) return {Status::failed, "its trace does not read back as finished", {}};
      return {Status::finished, "", std::move(result)};
    } catch (const std::exception& e) {
      return {Status::failed, one_line(e.what()), {}};
    }
  }

  void work(Slot& slot, std::stop_token stop) {
    while (!stop.stop_requested()) {
      const std::size_t k = next_++;
      if (k >= todo_.size()) return;
      const Run& run = runs_[todo_[k]];
      const auto start = Clock::now();
      {
        std::lock_guard lock(mutex_);
        slot.run = run.index;
        slot.start = start;
        slot.fraction = 0;
      }
      RunState state = run_one(run, slot);
      std::lock_guard lock(mutex_);
      slot.run.reset();
      done_.push_back({run.index, std::move(state), seconds_since(start)});
      done_signal_.notify_one();
    }
  }
};

std::string finished_line(const Run& run, const RunState& state) {
  if (state.status == Status::failed)
    return "run " + run.id + " failed (" + assignment_text(run) + "): " + state.failure;
  const RunResult& r = *state.result;
  return "run " + run.id + " finished (" + assignment_text(run) + "): " +
         train::printf_text("test_accuracy=%.4f images_per_second=%.0f seconds=%.1f",
                            r.test_accuracy, r.images_per_second, r.seconds);
}

// Rank 0 completes the states of the other ranks' runs: their traces, or the failures they sent.
void collect(const std::vector<Run>& runs, std::vector<RunState>& states,
             const std::filesystem::path& dir, Cluster& cluster) {
  std::string failures;
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (own(runs[i], cluster) && states[i].status == Status::failed)
      failures += std::to_string(i) + "\t" + states[i].failure + "\n";
  const std::vector<std::string> gathered = cluster.gather(failures);
  if (cluster.rank() != 0 || cluster.size() == 1) return;
  std::map<std::size_t, std::string> failed;
  for (const std::string& text : gathered) {
    std::istringstream lines(text);
    std::string index, message;
    while (std::getline(lines, index, '\t') && std::getline(lines, message))
      failed[std::stoul(index)] = message;
  }
  for (const Run& run : runs) {
    if (own(run, cluster)) continue;
    RunState& state = states[run.index];
    if (const auto it = failed.find(run.index); it != failed.end()) {
      state = {Status::failed, it->second, {}};
      continue;
    }
    try {
      state.result = finished_result(trace_path(dir, run), run.config);
    } catch (const traces::TraceError& e) {
      state = {Status::failed, one_line(e.what()), {}};
      continue;
    }
    state.status = state.result ? Status::finished : Status::failed;
    if (!state.result) state.failure = "no finished trace";
  }
}

}  // namespace

std::filesystem::path trace_path(const std::filesystem::path& dir, const Run& run) {
  return dir / "runs" / (run.id + ".h5");
}

void prepare_directory(const SweepSpec& spec, const SweepOptions& options, Cluster& cluster) {
  if (!options.resume && holds_runs(options.out))
    throw SweepError(options.out.string() +
                     " holds the runs of an earlier sweep: pass --resume to keep its finished "
                     "runs and redo the others, or choose another --out");
  cluster.barrier();  // every rank has looked before any run is written
  if (cluster.rank() == 0) {
    std::filesystem::create_directories(options.out / "runs");
    std::ofstream copy(options.out / "sweep.toml", std::ios::binary | std::ios::trunc);
    copy << spec.text;
    if (!copy.flush())
      throw std::runtime_error("cannot write " + (options.out / "sweep.toml").string());
  }
  cluster.barrier();
}

std::vector<RunState> kept_runs(const std::vector<Run>& runs, const std::filesystem::path& dir,
                                const Cluster& cluster, std::ostream& notes) {
  std::vector<RunState> states(runs.size());
  for (const Run& run : runs) {
    if (!own(run, cluster)) continue;
    const std::filesystem::path trace = trace_path(dir, run);
    try {
      if (auto result = finished_result(trace, run.config)) {
        states[run.index] = {Status::finished, "", std::move(result)};
        continue;
      }
    } catch (const traces::TraceError& e) {
      notes << "run " << run.id << ": " << one_line(e.what()) << "; redoing it\n";
      continue;
    }
    std::error_code error;
    if (std::filesystem::exists(trace, error))
      notes << "run " << run.id << ": " << trace.string()
            << " did not finish or is another configuration's; redoing it\n";
  }
  return states;
}

std::vector<RunState> run_sweep(const std::vector<Run>& runs, std::vector<RunState> states,
                                const SweepOptions& options, Cluster& cluster, std::ostream& out,
                                bool terminal) {
  const std::string prefix =
      cluster.size() > 1 ? "rank " + std::to_string(cluster.rank()) + ": " : "";
  ProgressSnapshot progress;
  std::vector<std::size_t> todo;
  for (const Run& run : runs) {
    if (!own(run, cluster)) continue;
    ++progress.total;
    if (states[run.index].status == Status::finished)
      ++progress.done;
    else
      todo.push_back(run.index);
  }
  {
    Pool pool(runs, std::move(todo), options, cluster);
    progress.jobs = pool.jobs();
    train::StatusLine status(out);
    for (std::size_t left = pool.size(); left > 0;) {
      const std::vector<Pool::Done> done =
          pool.wait(terminal ? train::StatusLine::kInterval : std::chrono::hours(1));
      for (const Pool::Done& d : done) {
        states[d.run] = d.state;
        ++progress.done;
        progress.failed += d.state.status == Status::failed;
        if (d.state.status == Status::finished) progress.finished_seconds.push_back(d.seconds);
        --left;
      }
      progress.running = pool.running();
      if (!done.empty() && cluster.size() == 1) write_summary(options.out, runs, states);
      for (const Pool::Done& d : done) {
        if (terminal && d.state.status == Status::finished) continue;
        if (terminal) status.clear();
        out << prefix << finished_line(runs[d.run], d.state);
        if (!terminal) out << "; " << progress_text(progress);
        out << '\n';
      }
      if (terminal && (status.due() || !done.empty())) status.draw(progress_text(progress));
      out << std::flush;
    }
    if (terminal) status.clear();
  }
  collect(runs, states, options.out, cluster);
  if (cluster.rank() == 0) write_summary(options.out, runs, states);
  return states;
}

}  // namespace lpsim::sweep
