#include "sim/train/trainer.hpp"

#include <algorithm>
#include <chrono>

#include "sim/data/batches.hpp"
#include "sim/nn/optimizer.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/train/float_learner.hpp"
#include "traces/writer.hpp"

namespace lpsim::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Collects the tensor rows of one step.
class RowCollector final : public nn::Recorder {
 public:
  explicit RowCollector(std::int64_t step) : step_(step) {}
  void record(const std::string& layer, const std::string& role,
              const nn::TensorStats& s) override {
    rows.push_back({.layer = layer,
                    .role = role,
                    .step = step_,
                    .elements = s.elements,
                    .shared_exponent = s.shared_exponent,
                    .max_abs = s.max_abs,
                    .counts = s.counts,
                    .extras = {s.extras.begin(), s.extras.end()}});
  }
  std::vector<traces::TensorRow> rows;

 private:
  std::int64_t step_;
};

traces::ColumnSpec column_spec(const nn::StatColumn& c) {
  return {.name = c.name,
          .type = c.integer ? traces::ColumnType::int64 : traces::ColumnType::float64,
          .units = c.units,
          .description = c.description};
}

data::BatchOptions training_batches(const TrainConfig& c) {
  return {.batch_size = std::size_t(c.batch), .drop_last = false, .shuffle = true, .seed = c.seed};
}

template <class F>
auto as_config_error(F&& f) {
  try {
    return f();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

}  // namespace

struct Trainer::State {
  TrainConfig config;
  const data::Split& data;
  nn::ThreadPool pool;
  nn::Model model;
  std::unique_ptr<schemes::Scheme> scheme;
  std::unique_ptr<schemes::Learner> learner;
  std::int64_t step = 0;
  nn::Tensor images;

  State(TrainConfig c, const data::Split& d)
      : config(std::move(c)),
        data(d),
        pool(int(config.threads)),
        model(as_config_error([&] {
          const data::Shape& s = data.train.shape;
          return nn::build_model(config.model, {1, s.channels, s.height, s.width},
                                 data.train.classes, config.seed);
        })),
        scheme(as_config_error([&] {
          return schemes::make_scheme(config.scheme, config.scheme_options, config.seed);
        })),
        learner(as_config_error([&] {
          const schemes::LearnerSettings settings{
              .model = model,
              .sgd = {.momentum = float(config.momentum),
                      .weight_decay = float(config.weight_decay)},
              .seed = config.seed,
              .epochs = config.epochs,
              .steps_per_epoch = std::int64_t(data::batches_per_epoch(
                  data.train.size(), training_batches(config)))};
          std::unique_ptr<schemes::Learner> own = scheme->learner(settings);
          return own ? std::move(own) : make_float_learner(*scheme, settings);
        })) {}

  const nn::Tensor& batch_images(const data::Batch& batch) {
    const data::Shape& s = batch.shape;
    images.resize({batch.size(), s.channels, s.height, s.width});
    std::copy(batch.images.begin(), batch.images.end(), images.data.begin());
    return images;
  }
};

Trainer::Trainer(TrainConfig config, const data::Split& data) {
  validate(config);
  state_ = std::make_unique<State>(std::move(config), data);
}

Trainer::~Trainer() = default;

const nn::Model& Trainer::model() const { return state_->model; }

std::pair<double, double> Trainer::evaluate() {
  State& s = *state_;
  data::Batches batches(s.data.test, {.batch_size = std::size_t(s.config.eval_batch),
                                      .drop_last = false,
                                      .shuffle = false,
                                      .seed = 0});
  double loss = 0;
  std::size_t correct = 0;
  while (const auto batch = batches.next()) {
    const nn::LossResult r =
        s.learner->evaluate(s.batch_images(*batch), batch->labels, s.pool, std::uint64_t(s.step));
    loss += r.loss * double(batch->size());
    correct += r.correct;
  }
  const double n = double(s.data.test.size());
  return {loss / n, double(correct) / n};
}

TrainResult Trainer::run(TrainObserver* observer) {
  State& s = *state_;
  const TrainConfig& c = s.config;
  const auto start = Clock::now();

  traces::RunInfo info;
  info.config = config_entries(c);
  for (auto& [key, value] : s.scheme->options())
    info.config.emplace_back("scheme_option." + key, value);
  const schemes::ConfigEntries learner_entries = s.learner->config();
  info.config.insert(info.config.end(), learner_entries.begin(), learner_entries.end());
  info.seed = c.seed;
  traces::TraceWriter writer(c.trace_path(), info, {.flush_every = int(c.flush_every)});
  using traces::ColumnType;
  writer.declare_step_column(
      {"test_loss", ColumnType::float64, "nat",
       "mean cross-entropy on the test set after the epoch this step ends (epoch ends only)"});
  writer.declare_step_column({"test_accuracy", ColumnType::float64, "1",
                              "fraction of the test set classified correctly after the epoch this "
                              "step ends (epoch ends only)"});
  for (const nn::StatColumn& column : s.learner->step_columns())
    writer.declare_step_column(column_spec(column));
  for (const nn::StatColumn& column : s.learner->tensor_columns())
    writer.declare_tensor_column(column_spec(column));

  data::Batches batches(s.data.train, training_batches(c));
  const std::int64_t per_epoch = std::int64_t(batches.batches_per_epoch());
  nn::Schedule schedule{.base_lr = c.lr,
                        .gamma = c.lr_gamma,
                        .step_epochs = c.lr_step_epochs,
                        .steps_per_epoch = per_epoch,
                        .total_steps = per_epoch * c.epochs};
  nn::parse_schedule(c.schedule, schedule.kind);

  TrainResult result;
  std::int64_t images = 0;
  double test_loss = 0, test_accuracy = 0;
  for (std::int64_t epoch = 0; epoch < c.epochs; ++epoch) {
    batches.start_epoch(std::uint64_t(epoch));
    double epoch_loss = 0;
    std::size_t epoch_correct = 0, epoch_images = 0;
    std::int64_t epoch_skipped = 0;
    for (std::int64_t index = 0; const auto batch = batches.next(); ++index) {
      const auto step_start = Clock::now();
      const bool record = s.step % c.record_every == 0;
      RowCollector rows(s.step);
      const schemes::StepOutcome outcome =
          s.learner->train_step(s.batch_images(*batch), batch->labels,
                                {.pool = s.pool,
                                 .step = std::uint64_t(s.step),
                                 .epoch = std::uint64_t(epoch),
                                 .total_steps = std::uint64_t(per_epoch * c.epochs),
                                 .lr = schedule.at(s.step),
                                 .seed = c.seed,
                                 .recorder = record ? &rows : nullptr});
      const nn::LossResult& loss = outcome.loss;
      const bool skipped = outcome.skipped;
      result.train_seconds += seconds_since(step_start);

      images += std::int64_t(batch->size());
      epoch_loss += loss.loss * double(batch->size());
      epoch_correct += loss.correct;
      epoch_images += batch->size();
      epoch_skipped += skipped;
      const bool epoch_end = index + 1 == per_epoch;
      if (epoch_end) std::tie(test_loss, test_accuracy) = evaluate();

      for (const traces::TensorRow& row : rows.rows) writer.append_tensor(row);
      traces::StepRow row{.step = s.step,
                          .epoch = epoch,
                          .loss = loss.loss,
                          .accuracy = double(loss.correct) / double(batch->size()),
                          .learning_rate = outcome.lr,
                          .loss_scale = outcome.loss_scale,
                          .skipped = skipped,
                          .extras = {outcome.extras.begin(), outcome.extras.end()}};
      if (epoch_end) {
        row.extras.emplace_back("test_loss", test_loss);
        row.extras.emplace_back("test_accuracy", test_accuracy);
      }
      writer.append_step(row);
      ++s.step;
      if (observer)
        observer->on_step({.step = s.step,
                           .total_steps = per_epoch * c.epochs,
                           .epoch = epoch + 1,
                           .epochs = c.epochs,
                           .loss = loss.loss,
                           .accuracy = row.accuracy,
                           .lr = outcome.lr,
                           .loss_scale = outcome.loss_scale,
                           .skipped = skipped,
                           .images = images,
                           .train_seconds = result.train_seconds});
    }
    result.skipped_steps += epoch_skipped;
    if (observer)
      observer->on_epoch({.epoch = epoch + 1,
                          .epochs = c.epochs,
                          .train_loss = epoch_loss / double(epoch_images),
                          .train_accuracy = double(epoch_correct) / double(epoch_images),
                          .test_loss = test_loss,
                          .test_accuracy = test_accuracy,
                          .skipped_steps = epoch_skipped,
                          .loss_scale = s.learner->loss_scale(),
                          .seconds = seconds_since(start)});
  }
  result.steps = s.step;
  result.test_loss = test_loss;
  result.test_accuracy = test_accuracy;
  result.final_loss_scale = s.learner->loss_scale();
  result.images_per_second = result.train_seconds > 0 ? double(images) / result.train_seconds : 0;
  result.seconds = seconds_since(start);
  writer.write_summary({{"test_accuracy", result.test_accuracy},
                        {"test_loss", result.test_loss},
                        {"steps", result.steps},
                        {"skipped_steps", result.skipped_steps},
                        {"final_loss_scale", result.final_loss_scale},
                        {"seconds", result.seconds},
                        {"train_seconds", result.train_seconds},
                        {"images_per_second", result.images_per_second},
                        {"threads", c.threads}});
  writer.close();
  return result;
}

}  // namespace lpsim::train
