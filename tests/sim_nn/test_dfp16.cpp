// dfp16 (Das et al.): the int16 engine's three products equal ref::conv2d_* on the DFP16 codes bit
// for bit (flushed chains and plain int32 results alike) and agree with a double-precision
// convolution of the dequantized operands; a tiny run with --scheme dfp16 learns, and its trace
// records each DFP tensor's shared exponent by the FPHW rule.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "formats/syntax.hpp"
#include "reference/gemm.hpp"
#include "sim/nn/engine_int16.hpp"
#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/scheme.hpp"
#include "sim/train/data_source.hpp"
#include "sim/train/trainer.hpp"
#include "traces/reader.hpp"
#include "traces/schema.hpp"

namespace lpsim {
namespace {

using nn::ConvGeometry;
using nn::QTensor;

// A DFP tensor of random codes in [-limit, limit] with shared exponent `exponent`.
QTensor random_dfp(std::size_t n, std::size_t sample, int exponent, int limit, std::mt19937& rng) {
  QTensor t;
  t.values.resize({n, sample, 1, 1});
  std::uniform_int_distribution<int> code(-limit, limit);
  t.codes.resize(t.values.size());
  for (std::size_t i = 0; i < t.codes.size(); ++i) {
    t.codes[i] = std::int16_t(code(rng));
    t.values.data[i] = std::ldexp(float(t.codes[i]), exponent);
  }
  t.exponents = {exponent};
  return t;
}

std::vector<std::int32_t> widen(const std::vector<std::int16_t>& codes) {
  return {codes.begin(), codes.end()};
}

// What the engine must return for one reference run: the fp32 totals when chains flush, else each
// int32 result in fp32 scaled by 2^scale_exp.
std::vector<float> expected(const ref::GemmReference& r, const AccumulatorSpec& acc, int scale_exp) {
  if (acc.flush_every > 0) return r.total;
  std::vector<float> out(r.integer.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::ldexp(float(std::int32_t(r.integer[i])), scale_exp);
  return out;
}

void expect_bits(const std::vector<float>& want, std::span<const float> got, const char* what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0 && ++differ == 1)
      ADD_FAILURE() << what << "[" << i << "]: want " << want[i] << " got " << got[i];
  EXPECT_EQ(differ, 0u) << what;
}

// Direct double-precision convolution of the dequantized operands, for the three products.
struct DirectConv {
  const ConvGeometry& g;
  int oh() const { return g.out_height(); }
  int ow() const { return g.out_width(); }
  std::size_t xi(int n, int c, int h, int w) const {
    return ((std::size_t(n) * g.channels + c) * g.height + h) * g.width + w;
  }
  std::size_t wi(int k, int c, int r, int s) const {
    return ((std::size_t(k) * g.channels + c) * g.kernel + r) * g.kernel + s;
  }
  std::size_t yi(int n, int k, int y, int x) const {
    return ((std::size_t(n) * g.filters + k) * oh() + y) * ow() + x;
  }
  // Calls f(x index, w index, y index) for every product of the convolution.
  template <class F>
  void each(F&& f) const {
    for (int n = 0; n < g.batch; ++n)
      for (int k = 0; k < g.filters; ++k)
        for (int y = 0; y < oh(); ++y)
          for (int x = 0; x < ow(); ++x)
            for (int c = 0; c < g.channels; ++c)
              for (int r = 0; r < g.kernel; ++r)
                for (int s = 0; s < g.kernel; ++s) {
                  const int h = y * g.stride - g.pad + r, w = x * g.stride - g.pad + s;
                  if (h >= 0 && h < g.height && w >= 0 && w < g.width)
                    f(xi(n, c, h, w), wi(k, c, r, s), yi(n, k, y, x));
                }
  }
};

// Every output within `relative` of the double result, relative to the output's largest magnitude
// (flushing rounds each chain to fp32 once).
void expect_close(const std::vector<double>& want, std::span<const float> got, const char* what) {
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  ASSERT_GT(scale, 0) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5 * scale) << what << "[" << i << "]";
}

struct EngineCase {
  ConvGeometry g;
  std::string acc;
  int limit;  // largest |code|
};

void check_engine(const EngineCase& c, int threads) {
  const ConvGeometry& g = c.g;
  SCOPED_TRACE(to_string(nn::to_conv2d_shape(g, g.batch)) + " " + c.acc + " threads " + std::to_string(threads));
  std::mt19937 rng(7);
  const AccumulatorSpec acc = parse_accumulator(c.acc);
  const auto engine = nn::int16_engine(acc);
  nn::ThreadPool pool(threads);
  const std::size_t out_sample = std::size_t(g.filters) * g.out_height() * g.out_width();
  const QTensor x = random_dfp(g.batch, std::size_t(g.channels) * g.height * g.width, -9, c.limit, rng);
  const QTensor w = random_dfp(g.filters, g.patch(), -14, c.limit, rng);
  const QTensor dy = random_dfp(g.batch, out_sample, -20, c.limit, rng);
  const Conv2dShape shape = nn::to_conv2d_shape(g, g.batch);
  const int taps = g.kernel * g.kernel;
  AccumulatorSpec chained = acc;  // flush counts channels in the engine, products in ref
  chained.flush_every *= taps;
  const DirectConv direct{g};

  std::vector<float> y(std::size_t(g.batch) * out_sample);
  engine->forward(g, x, w, y, pool);
  expect_bits(expected(ref::conv2d_forward(chained, shape, widen(x.codes), widen(w.codes), -23),
                       chained, -23),
              y, "forward");
  std::vector<float> dx(x.values.size());
  engine->backward_data(g, dy, w, dx, pool);
  expect_bits(expected(ref::conv2d_backward_data(chained, shape, widen(dy.codes), widen(w.codes), -34),
                       chained, -34),
              dx, "backward-data");
  std::vector<float> dw(w.values.size());
  engine->weight_grad(g, x, dy, dw, pool);
  expect_bits(expected(ref::conv2d_weight_grad(acc, shape, widen(x.codes), widen(dy.codes), -29), acc,
                       -29),
              dw, "weight-grad");

  if (c.limit * c.limit * std::int64_t(g.patch()) < (std::int64_t(1) << 31)) {  // nothing wraps
    std::vector<double> y_d(y.size()), dx_d(dx.size()), dw_d(dw.size());
    direct.each([&](std::size_t xi, std::size_t wi, std::size_t yi) {
      y_d[yi] += double(x.values.data[xi]) * w.values.data[wi];
      dx_d[xi] += double(dy.values.data[yi]) * w.values.data[wi];
      dw_d[wi] += double(dy.values.data[yi]) * x.values.data[xi];
    });
    expect_close(y_d, y, "forward vs double");
    expect_close(dx_d, dx, "backward-data vs double");
    expect_close(dw_d, dw, "weight-grad vs double");
  }
}

TEST(Int16Engine, MatchesReferenceOnCodes) {
  const EngineCase cases[] = {
      // 3x3, stride 2, padding, chains of 4 channels (36 products) over 10 channels
      {{.batch = 3, .channels = 10, .height = 7, .width = 6, .filters = 5, .kernel = 3, .stride = 2,
        .pad = 1},
       "acc:int32:wrap:flush=4", 8192},
      // Das' default over more than 256 input channels: two chains per output
      {{.batch = 2, .channels = 300, .height = 3, .width = 3, .filters = 3, .kernel = 1},
       "acc:int32:wrap:flush=256", 8192},
      // plain int32 that wraps (full-range codes over 90 products), and vpdpwssds saturation
      {{.batch = 2, .channels = 10, .height = 5, .width = 5, .filters = 4, .kernel = 3, .pad = 1},
       "acc:int32:wrap", 32767},
      {{.batch = 2, .channels = 10, .height = 5, .width = 5, .filters = 4, .kernel = 3, .pad = 1},
       "acc:int32:sat:group=2", 32767},
      // a fully connected layer
      {{.batch = 4, .channels = 40, .filters = 6}, "acc:int32:wrap:flush=256", 8192},
      {{.batch = 4, .channels = 40, .filters = 6}, "acc:int32:wrap", 1000},
  };
  for (const EngineCase& c : cases)
    for (int threads : {1, 3}) check_engine(c, threads);
}

TEST(Int16Engine, RejectsOperandsWithoutCodes) {
  const auto engine = nn::int16_engine(parse_accumulator("acc:int32:wrap:flush=256"));
  const ConvGeometry g{.batch = 1, .channels = 2, .filters = 1};
  QTensor x, w;
  x.values.resize({1, 2, 1, 1});
  w.values.resize({1, 2, 1, 1});
  x.exponents = w.exponents = {0};
  std::vector<float> y(1);
  nn::ThreadPool pool(1);
  EXPECT_THROW(engine->forward(g, x, w, y, pool), std::invalid_argument);
}

TEST(Dfp16Scheme, OptionsAndErrors) {
  const auto s = schemes::make_scheme("dfp16", {{"acc", "acc:int32:sat:group=2"}, {"add_shift", "3"}}, 1);
  const schemes::ConfigEntries options = s->options();
  auto value = [&](const std::string& key) {
    for (const auto& [k, v] : options)
      if (k == key) return v;
    return std::string("(missing)");
  };
  EXPECT_EQ(value("add_shift"), "3");
  EXPECT_EQ(value("rounding"), "nearest-even");
  EXPECT_NE(value("engine").find("acc:int32:sat:group=2"), std::string::npos) << value("engine");
  EXPECT_THROW(schemes::make_scheme("dfp16", {{"acc", "acc:int64:wrap"}}, 1), std::invalid_argument);
  EXPECT_THROW(schemes::make_scheme("dfp16", {{"add_shift", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(schemes::make_scheme("dfp16", {{"rounding", "sideways"}}, 1), std::invalid_argument);
  EXPECT_THROW(schemes::make_scheme("dfp16", {{"bogus", "1"}}, 1), std::invalid_argument);
}

TEST(Dfp16Training, TinyRunLearnsAndTracesSharedExponents) {
  const std::filesystem::path trace =
      std::filesystem::temp_directory_path() / ("lpsim-dfp16-" + std::to_string(getpid()) + ".h5");
  const data::Split split = train::load_data(train::parse_data_spec("synthetic:1x28x28"), 320, 200);
  train::TrainConfig c;
  c.data = "synthetic";
  c.scheme = "dfp16";
  c.model = "lenet5";
  c.epochs = 3;
  c.batch = 32;
  c.lr = 0.05;
  c.trace = trace.string();
  c.record_every = 2;
  c.flush_every = 3;
  double accuracy = 0;
  {
    train::Trainer trainer(c, split);
    accuracy = trainer.run().test_accuracy;
  }
  EXPECT_GT(accuracy, 0.6);  // chance is 0.1

  const traces::TraceReader reader(trace);
  // The FPHW rule with add_shift 2: max = m * 2^e, m in [0.5, 1) -> shared exponent e - 13.
  std::size_t checked = 0;
  for (const char* role : {"A", "W", "E"}) {
    const std::string group = traces::tensor_group("conv2", role);
    ASSERT_GT(reader.rows(group), 0u) << group;
    const auto exponent = reader.read_float64(group, "shared_exponent");
    const auto max_abs = reader.read_float64(group, "max_abs");
    for (std::size_t i = 0; i < exponent.size(); ++i) {
      ASSERT_GT(max_abs[i], 0) << group;
      int e = 0;
      std::frexp(float(max_abs[i]), &e);
      EXPECT_EQ(exponent[i], e - 13) << group << " row " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  std::filesystem::remove(trace);
}

}  // namespace
}  // namespace lpsim
