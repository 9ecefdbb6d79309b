// niti-int8 (Wang et al., NITI; SCHEMES.md §2): integer-only training. The model's conv and linear
// layers become int8 tensors with one frozen exponent each, every product accumulates in int32,
// activations and errors return to int8 by act_calc / err_calc, the loss error comes from NITI's
// integer cross-entropy backward, and the weights take integer steps of at most ~2^mu (the
// gradient bit width mu replaces the learning rate). The network, its rounding and its products
// are in sim/schemes/niti/ (no floating point there: see niti/float_boundary.hpp); this file reads
// the options, runs the steps and records the trace. The model's biases are not used (NITI has
// none); models with batch norm or residual blocks are rejected.
//
// Options (defaults are NITI's code at HEAD, except the loss, whose integer 2020 version issue 6
// asks for; SCHEMES.md "Ambiguities" 4-8):
//   variant      head: act/err RoundShift, gradients PstoShift; 2020: PstoShift everywhere and a
//                shift of 1 becomes 2 (commit 0443b17)
//   loss         int: the integer cross-entropy backward (2020, `//`); float-div: HEAD's, whose
//                true division computes in float32
//   division     trunc (PyTorch 1.7, NITI's Dockerfile) or floor (PyTorch >= 1.13) for every `//`
//   mu_schedule  epoch:mu pairs, e.g. 0:5,100:4,150:3 (NITI's 200-epoch VGG); the default,
//                0:5,1:4,2:3,3:2,4:1, is NITI's 5, 4, 3 continued to 2 and 1, one value per epoch
//                of lpsim's 5-epoch runs (docs/results.md compares schedules)
//   conv_acc     the convolutions' accumulator (default acc:int32:sat:group=16:fp32-epilogue:
//                CUTLASS's saturating MMA and float epilogue)
//   linear_acc   the fully connected layers' (default acc:int32:wrap: cuBLAS)
// The run's learning rate, momentum and weight decay are not used (NITI has none); the trace's
// learning_rate column is 0 and the step's mu is a column of its own.
//
// Trace (SCHEMES.md §2 "Per-step trace"), per conv and linear layer:
//   A  act_calc of the forward product: the layer's output activations (shared_exponent e_act_out,
//      max_abs the largest |int32| in value units, acc_bits b, shift b - 7)
//   E  err_calc: the error the layer passes to its input (shared_exponent e_err as HEAD tracks it)
//   G  grad_calc of g32 (acc_bits b, shift b - mu, mu)
//   U  the update W = int8_clip(W - g): shared_exponent the frozen e_w, pinned, changed, and in
//      `saturated` the weights W - g clamped
// and input/A (TiFloatToInt8: `saturated` counts the clamps at -128/127), loss/E (StoShift(p, 4)
// of the softmax error). In A, E, G and loss/E `saturated` counts int8_clip's clamps, `wrapped`
// the casts that wrapped (128 -> -128), acc_saturated / acc_wrapped / epilogue_rounded what the
// int32 accumulators did. /steps: mu, loss_branch, logit_exponent.
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "formats/syntax.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/builtin.hpp"
#include "sim/schemes/niti/float_boundary.hpp"
#include "sim/schemes/niti/loss.hpp"
#include "sim/schemes/niti/network.hpp"

namespace lpsim::schemes {
namespace {

using niti::Division;
using niti::Requantization;

enum class LossVariant : std::uint8_t { integer, float_division };

struct MuChange {
  std::uint64_t epoch = 0;
  int mu = 0;
};

struct NitiOptions {
  bool variant_2020 = false;
  LossVariant loss = LossVariant::integer;
  Division division = Division::trunc;
  std::vector<MuChange> mu_schedule;
  AccumulatorSpec conv_acc, linear_acc;

  niti::NetworkOptions network() const {
    return {.rounding =
                variant_2020 ? niti::ShiftRounding::psto_shift : niti::ShiftRounding::round_shift,
            .widen_single_shift = variant_2020,
            .division = division,
            .conv_acc = conv_acc,
            .linear_acc = linear_acc};
  }
  int mu(std::uint64_t epoch) const {
    int mu = mu_schedule.front().mu;
    for (const MuChange& change : mu_schedule)
      if (change.epoch <= epoch) mu = change.mu;
    return mu;
  }
};

std::string describe_schedule(const std::vector<MuChange>& schedule) {
  std::string text;
  for (const MuChange& c : schedule) {
    if (!text.empty()) text += ',';
    text += std::to_string(c.epoch);
    text += ':';
    text += std::to_string(c.mu);
  }
  return text;
}

std::string division_name(Division d) { return d == Division::trunc ? "trunc" : "floor"; }

// The extra columns of the tensor groups.
std::vector<nn::StatColumn> tensor_columns() {
  return {
      {"acc_bits", "bit", "RangeEstimate of the int32 values: ceil(log2 fp32(max |acc|))", true},
      {"shift", "bit", "bits shifted out on the way to int8 (0: cast)", true},
      {"acc_saturated", "1", "saturations of the int32 accumulators (outputs computed exactly)",
       true},
      {"acc_wrapped", "1", "wrap-arounds of the int32 accumulators (outputs computed exactly)",
       true},
      {"exact_outputs", "1",
       "outputs whose |products| could reach the accumulator's range, computed product by product",
       true},
      {"epilogue_rounded", "1", "outputs the fp32 epilogue changed (|acc| > 2^24)", true},
      {"mu", "bit", "G: the gradient bit width of the step", true},
      {"changed", "1", "U: weights the step changed (g != 0)", true},
      {"pinned", "1", "U: weights at +-127 after the step", true},
  };
}

nn::TensorStats requantization_stats(const Requantization& r) {
  nn::TensorStats s;
  s.elements = r.elements;
  s.shared_exponent = r.exponent;
  s.max_abs = std::ldexp(double(r.max_magnitude), r.source_exponent);
  s.counts.saturated = std::uint64_t(r.clipped);
  s.counts.wrapped = std::uint64_t(r.wrapped);
  s.counts.inexact = std::uint64_t(r.inexact);
  s.counts.flushed_to_zero = std::uint64_t(r.flushed_to_zero);
  s.counts.zero = std::uint64_t(r.zero);
  s.extras = {{"acc_bits", std::int64_t{r.bits}},
              {"shift", std::int64_t{r.shift}},
              {"acc_saturated", r.products.saturations},
              {"acc_wrapped", r.products.wraps},
              {"exact_outputs", r.products.exact_outputs},
              {"epilogue_rounded", r.products.epilogue_rounded}};
  return s;
}

void record(nn::Recorder& recorder, const niti::GemmReport& report) {
  recorder.record(report.layer, "A", requantization_stats(report.activation));
  if (report.error) recorder.record(report.layer, "E", requantization_stats(*report.error));
  if (report.gradient) {
    nn::TensorStats g = requantization_stats(*report.gradient);
    g.extras.emplace_back("mu", std::int64_t{report.mu});
    recorder.record(report.layer, "G", g);
    nn::TensorStats u;
    u.elements = report.update.elements;
    u.shared_exponent = report.weight_exponent;
    u.max_abs = std::ldexp(double(report.update.max_magnitude), report.weight_exponent);
    u.counts.saturated = std::uint64_t(report.update.clipped);
    u.extras = {{"changed", report.update.changed}, {"pinned", report.update.pinned}};
    recorder.record(report.layer, "U", u);
  }
}

class NitiLearner final : public Learner {
 public:
  NitiLearner(const nn::Model& model, const NitiOptions& options)
      : options_(options), network_(model, options.network()) {
    for (const nn::Parameter* p : model.parameters())
      if (p->name.ends_with(".bias")) biases_ += (biases_.empty() ? "" : ", ") + p->name;
  }

  ConfigEntries config() const override {
    const std::string division = division_name(options_.division);
    const std::string act = options_.variant_2020
                                ? "int8_clip(PstoShift(acc, b-7)), shift 1 -> 2; cast when b <= 7"
                                : "int8_clip(RoundShift(acc, b-7)); cast when b <= 7";
    ConfigEntries entries = {
        {"scheme.input",
         "TiFloatToInt8 per batch: exponent ceil(log2 max|x|)-7, round half even, clamp -128..127"},
        {"scheme.act_calc", act + ", // " + division},
        {"scheme.err_calc", act + ", // " + division},
        {"scheme.grad_calc", "int8_clip(PstoShift(g32, b-mu)); cast when b-mu < 1, // " + division},
        {"scheme.update",
         "W = int8_clip(W - g); weight exponents frozen; lr, momentum and weight "
         "decay unused"},
        {"scheme.loss",
         (options_.loss == LossVariant::integer ? "integer cross-entropy backward (2020, //)"
                                                : "cross-entropy backward with float32 division "
                                                  "(HEAD)") +
             std::string(", then int8_clip(StoShift(p, 4)), exponent 0")},
        {"scheme.bias", biases_.empty() ? "none" : "not used (NITI has none): " + biases_},
    };
    for (auto& entry : network_.config()) entries.push_back(std::move(entry));
    return entries;
  }

  std::vector<nn::StatColumn> step_columns() const override {
    return {{"mu", "bit", "the gradient bit width of the step", true},
            {"loss_branch", "1",
             "1: the loss took the base-2 softmax (logit exponent > -7), "
             "0: the Taylor form",
             true},
            {"logit_exponent", "1", "the exponent of the int8 logits", true}};
  }
  std::vector<nn::StatColumn> tensor_columns() const override { return schemes::tensor_columns(); }

  StepOutcome train_step(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                         const StepContext& c) override {
    const niti::PassState state{.pool = c.pool,
                                .training = true,
                                .step = c.step,
                                .seed = c.seed,
                                .mu = options_.mu(c.epoch)};
    nn::TensorStats input_stats;
    input_stats.elements = std::int64_t(images.size());
    const niti::IntTensor& logits = network_.forward(
        niti_float::float_to_int8(images, c.recorder ? &input_stats : nullptr), state);
    StepOutcome outcome;
    outcome.loss = niti_float::logits_loss(logits, labels);
    outcome.lr = 0;
    const std::size_t classes = logits.dims.c;
    softmax_error_.resize(logits.codes.size());
    if (options_.loss == LossVariant::integer)
      niti::integer_softmax_error(logits.codes, classes, logits.exponent, labels, options_.division,
                                  softmax_error_);
    else
      niti_float::float_division_softmax_error(logits.codes, classes, logits.exponent, labels,
                                               softmax_error_);
    niti::IntTensor error{.dims = logits.dims,
                          .codes = std::vector<std::int8_t>(logits.codes.size())};
    const Requantization loss_error = niti::sto_shift_error(
        softmax_error_, error.codes, options_.division, c.seed, c.step, c.pool);
    outcome.extras = {{"mu", std::int64_t{state.mu}},
                      {"loss_branch", std::int64_t{niti::base2_branch(logits.exponent)}},
                      {"logit_exponent", std::int64_t{logits.exponent}}};
    network_.backward(std::move(error), state);
    if (c.recorder) {
      c.recorder->record("input", "A", input_stats);
      for (const niti::GemmReport& report : network_.reports()) record(*c.recorder, report);
      c.recorder->record("loss", "E", requantization_stats(loss_error));
    }
    return outcome;
  }

  nn::LossResult evaluate(const nn::Tensor& images, std::span<const std::uint8_t> labels,
                          nn::ThreadPool& pool, std::uint64_t step) override {
    const niti::PassState state{.pool = pool, .training = false, .step = step};
    return niti_float::logits_loss(
        network_.forward(niti_float::float_to_int8(images, nullptr), state), labels);
  }

 private:
  NitiOptions options_;
  niti::Network network_;
  std::string biases_;
  std::vector<std::int32_t> softmax_error_;
};

class NitiInt8 final : public Scheme {
 public:
  explicit NitiInt8(NitiOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "niti-int8"; }

  ConfigEntries options() const override {
    return {{"variant", options_.variant_2020 ? "2020" : "head"},
            {"loss", options_.loss == LossVariant::integer ? "int" : "float-div"},
            {"division", division_name(options_.division)},
            {"mu_schedule", describe_schedule(options_.mu_schedule)},
            {"conv_acc", to_string(options_.conv_acc)},
            {"linear_acc", to_string(options_.linear_acc)}};
  }

  // Never consulted: learner() trains the model's integer counterpart.
  nn::LayerPlan plan(const nn::Layer&, const LayerPosition&) const override { return {}; }

  std::unique_ptr<Learner> learner(const LearnerSettings& settings) const override {
    return std::make_unique<NitiLearner>(settings.model, options_);
  }

 private:
  NitiOptions options_;
};

std::string choice(OptionReader& options, const std::string& key, const std::string& fallback,
                   std::initializer_list<const char*> allowed) {
  const std::string value = options.text(key, fallback);
  std::string expected;
  for (const char* a : allowed) {
    if (value == a) return value;
    expected += (expected.empty() ? "" : " or ") + std::string(a);
  }
  throw std::invalid_argument("niti-int8 option " + key + ": \"" + value + "\" (expected " +
                              expected + ")");
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

std::vector<MuChange> parse_mu_schedule(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("niti-int8 option mu_schedule: \"" + text + "\" (" + why + ")");
  };
  std::vector<MuChange> schedule;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t colon = item.find(':');
    MuChange change;
    if (colon == std::string_view::npos || !parse_number(item.substr(0, colon), change.epoch) ||
        !parse_number(item.substr(colon + 1), change.mu))
      throw bad("expected epoch:mu pairs separated by commas, e.g. 0:5,100:4,150:3");
    if (change.mu < -16 || change.mu > 16) throw bad("mu must be in -16..16");
    if (schedule.empty() ? change.epoch != 0 : change.epoch <= schedule.back().epoch)
      throw bad("epochs must start at 0 and increase");
    schedule.push_back(change);
  }
  if (schedule.empty()) throw bad("empty");
  return schedule;
}

AccumulatorSpec accumulator_option(OptionReader& options, const std::string& key,
                                   const std::string& fallback) {
  const std::string text = options.text(key, fallback);
  AccumulatorSpec spec;
  try {
    spec = parse_accumulator(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("niti-int8 option " + key + ": " + e.what());
  }
  if (const std::string why = niti::unsupported(spec); !why.empty())
    throw std::invalid_argument("niti-int8 option " + key + ": \"" + text + "\": " + why);
  return spec;
}

}  // namespace

std::unique_ptr<Scheme> make_niti_int8(OptionReader& options, std::uint64_t) {
  NitiOptions o;
  o.variant_2020 = choice(options, "variant", "head", {"head", "2020"}) == "2020";
  o.loss = choice(options, "loss", "int", {"int", "float-div"}) == "int"
               ? LossVariant::integer
               : LossVariant::float_division;
  o.division = choice(options, "division", "trunc", {"trunc", "floor"}) == "trunc"
                   ? Division::trunc
                   : Division::floor;
  o.mu_schedule = parse_mu_schedule(options.text("mu_schedule", "0:5,1:4,2:3,3:2,4:1"));
  o.conv_acc = accumulator_option(options, "conv_acc", "acc:int32:sat:group=16:fp32-epilogue");
  o.linear_acc = accumulator_option(options, "linear_acc", "acc:int32:wrap");
  return std::make_unique<NitiInt8>(std::move(o));
}

}  // namespace lpsim::schemes
