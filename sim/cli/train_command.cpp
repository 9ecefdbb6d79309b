#include "sim/cli/train_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "sim/cli/commands.hpp"
#include "sim/train/config.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/progress.hpp"
#include "sim/train/trainer.hpp"

namespace lpsim {

namespace {

using train::TrainConfig;

// The command line's values: each option given overrides the TOML file's (or default) value.
struct TrainOptions {
  std::string config_file;
  TrainConfig given;
  std::string loss_scale;
  std::vector<std::string> scheme_options;  // KEY=VALUE
  std::vector<std::pair<CLI::Option*, std::function<void(TrainConfig&)>>> overrides;
};

template <class T>
void bind_option(CLI::App& cmd, TrainOptions& o, const std::string& name, T TrainConfig::*field,
                 const std::string& help) {
  CLI::Option* option = cmd.add_option(name, o.given.*field, help);
  const TrainConfig defaults;
  std::ostringstream text;
  text << defaults.*field;
  option->default_str(text.str());
  o.overrides.emplace_back(option, [&o, field](TrainConfig& c) { c.*field = o.given.*field; });
}

TrainConfig resolve(const TrainOptions& o) {
  TrainConfig config;
  if (!o.config_file.empty()) train::read_toml(o.config_file, config);
  for (const auto& [option, apply] : o.overrides)
    if (option->count() > 0) apply(config);
  if (!o.loss_scale.empty()) config.scheme_options["loss_scale"] = o.loss_scale;
  for (const std::string& kv : o.scheme_options) {
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw train::ConfigError("--scheme-option \"" + kv + "\": expected KEY=VALUE");
    config.scheme_options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  train::validate(config);
  return config;
}

void run_train(const TrainOptions& o) {
  TrainConfig config;
  train::DataSpec spec;
  try {
    config = resolve(o);
    spec = train::parse_data_spec(config.data);
  } catch (const train::ConfigError& e) {
    throw cli::UsageError(e.what());
  }
  const data::Split split = train::load_data(spec, config.limit_train, config.limit_test);
  std::unique_ptr<train::Trainer> trainer;
  try {
    trainer = std::make_unique<train::Trainer>(config, split);
  } catch (const train::ConfigError& e) {
    throw cli::UsageError(e.what());
  }
  std::cout << "train: " << config.model << " on " << config.data << " (" << split.train.size()
            << " training, " << split.test.size() << " test samples), scheme " << config.scheme
            << ", " << config.epochs << " epochs of batch " << config.batch << ", trace "
            << config.trace_path().string() << '\n'
            << std::flush;
  train::ProgressPrinter progress(std::cout, isatty(STDOUT_FILENO) != 0);
  const train::TrainResult result = trainer->run(&progress);
  std::cout << train::final_line(result) << '\n' << std::flush;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  TrainOptions& o = *options;
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a model under a numerics scheme, recording an HDF5 trace (traces/SCHEMA.md).\n"
      "Options override the --config TOML file, whose keys are the option names with '_' for '-'\n"
      "and a [scheme_options] table. The last line printed is\n"
      "`final: test_accuracy=... test_loss=... steps=... seconds=... images_per_second=...`.");
  cmd->add_option("--config", o.config_file, "TOML file of options");
  std::string schemes;
  for (std::string_view name : schemes::scheme_names())
    schemes += (schemes.empty() ? "" : " ") + std::string(name);
  bind_option(*cmd, o, "--scheme", &TrainConfig::scheme, "one of: " + schemes);
  bind_option(*cmd, o, "--model", &TrainConfig::model, "mlp, lenet5, vgg-small or resnet20");
  bind_option(*cmd, o, "--data", &TrainConfig::data,
              "fashion-mnist[:DIR], mnist:DIR, cifar10:DIR or synthetic[:CxHxW]");
  bind_option(*cmd, o, "--epochs", &TrainConfig::epochs, "passes over the training set");
  bind_option(*cmd, o, "--batch", &TrainConfig::batch, "training batch size");
  bind_option(*cmd, o, "--lr", &TrainConfig::lr, "base learning rate");
  bind_option(*cmd, o, "--momentum", &TrainConfig::momentum, "SGD momentum");
  bind_option(*cmd, o, "--weight-decay", &TrainConfig::weight_decay,
              "L2 weight decay (every parameter)");
  bind_option(*cmd, o, "--schedule", &TrainConfig::schedule, "constant, step or cosine (per step)");
  bind_option(*cmd, o, "--lr-step-epochs", &TrainConfig::lr_step_epochs,
              "step schedule: epochs between decays");
  bind_option(*cmd, o, "--lr-gamma", &TrainConfig::lr_gamma, "step schedule: decay factor");
  bind_option(*cmd, o, "--seed", &TrainConfig::seed,
              "initialisation, shuffling, dropout, stochastic rounding");
  bind_option(*cmd, o, "--threads", &TrainConfig::threads,
              "worker threads (results do not depend on it)");
  bind_option(*cmd, o, "--trace", &TrainConfig::trace, "trace file (default MODEL-SCHEME.h5)");
  bind_option(*cmd, o, "--record-every", &TrainConfig::record_every,
              "record tensor statistics every N steps");
  bind_option(*cmd, o, "--flush-every", &TrainConfig::flush_every,
              "write trace rows to disk every N steps");
  bind_option(*cmd, o, "--limit-train", &TrainConfig::limit_train,
              "use the first N training samples (0: all)");
  bind_option(*cmd, o, "--limit-test", &TrainConfig::limit_test,
              "use the first N test samples (0: all)");
  bind_option(*cmd, o, "--eval-batch", &TrainConfig::eval_batch, "batch size of test evaluation");
  cmd->add_option(
      "--loss-scale", o.loss_scale,
      "fp16-mixed: apex (default), apex-fp16-utils, torch, tensorflow, or a number (static)");
  cmd->add_option("--scheme-option", o.scheme_options,
                  "KEY=VALUE option of the scheme (repeatable)");
  cmd->callback([options] { run_train(*options); });
}

}  // namespace lpsim
