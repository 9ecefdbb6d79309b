// Where a scheme's numerics enter the network: every tensor a layer reads is converted to the
// representation its scheme gives for its (role, direction), in place, and the conversion's
// statistics can be recorded.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "formats/syntax.hpp"
#include "sim/nn/tensor.hpp"

namespace lpsim::nn {

class ThreadPool;

// What a tensor is in a training step (the W/A/G/E/U/BN of SCHEMES.md):
//   W  weights as the GEMMs read them        A  a layer's input activations
//   G  weight (and bias) gradients           E  the gradient of a layer's output
//   U  the update applied to master weights  BN batch-norm parameters and statistics
enum class Role : std::uint8_t { W, A, G, E, U, BN };
inline constexpr int kRoleCount = 6;
enum class Direction : std::uint8_t { forward, backward };
inline constexpr int kDirectionCount = 2;

std::string_view to_string(Role r);
std::string_view to_string(Direction d);

// A tensor as a scheme represents it: the values it stands for, as floats, and for block formats
// the shared exponents (and, for integer engines, the codes) they are made of: value i =
// codes[i] * 2^exponents[block of i].
struct QTensor {
  Tensor values;
  std::vector<std::int16_t> codes;  // with QuantSpec::keep_codes
  std::vector<int> exponents;       // block formats: one per block (formats/block_format.hpp)
};

class Quantizer;

// How a tensor is represented: fp32 as computed (no format), converted to a format, or passed
// through a scheme's own quantizer.
struct QuantSpec {
  std::optional<Format> format;
  ConvertPolicy policy;
  // Block formats with 16-bit integer elements: keep the element codes in QTensor::codes for an
  // integer GEMM engine.
  bool keep_codes = false;
  // A rule that is not a format conversion (scaled or stateful quantizers); excludes `format`.
  std::shared_ptr<Quantizer> custom;

  bool is_fp32() const { return !format.has_value() && !custom; }
};
bool operator==(const QuantSpec& a, const QuantSpec& b);

// "fp32", the format, rounding and overflow ("fp16:nearest-even:to-inf"), or the quantizer's
// describe().
std::string to_string(const QuantSpec& s);

// An extra statistic a scheme records: a column of the trace's tensor groups or /steps.
struct StatColumn {
  std::string name, units, description;
  bool integer = false;  // int64 (counts, exponents) rather than float64
};
using StatValue = std::variant<double, std::int64_t>;
using StatValues = std::vector<std::pair<std::string, StatValue>>;

// What one conversion saw and did.
struct TensorStats {
  std::int64_t elements = 0;
  std::optional<int> shared_exponent;  // block formats with one block (tensor scope)
  double max_abs = 0;                  // largest finite |x| before conversion
  ConversionCounts counts;             // fp32: zero, subnormal and nan of the values as they are
  StatValues extras;                   // columns a quantizer declared
};

// Where a conversion happens: what stochastic and stateful quantizers need to know.
struct QuantContext {
  ThreadPool& pool;
  std::uint64_t step = 0;         // the optimizer step (0-based)
  std::uint64_t epoch = 0;        // the epoch (0-based)
  std::uint64_t total_steps = 0;  // the run's optimizer steps (0: unknown, as in evaluation)
  bool training = true;           // false in evaluation passes (no state updates)
  std::uint64_t first_index = 0;  // numbers the first element for stochastic rounding
  std::uint32_t stream = 0;       // the tensor's own random stream
  std::string_view part = {};     // "" or a layer's second tensor of the role ("bias")
};

// A scheme's own conversion rule. A scheme makes one instance per (layer, role, direction), so it
// may carry state from step to step (an amax history; the context's `part` tells a layer's
// tensors of one role apart). Must give the same bits for any thread count.
class Quantizer {
 public:
  virtual ~Quantizer() = default;
  // For /config: the rule and its parameters ("fp8-delayed:e4m3:history=16:max:margin=0").
  virtual std::string describe() const = 0;
  // The extra statistics it fills in TensorStats::extras.
  virtual std::vector<StatColumn> columns() const { return {}; }
  // Converts t.values in place (it may set t.exponents and t.codes); fills stats when given
  // (elements is set already).
  virtual void apply(QTensor& t, const QuantContext& context, TensorStats* stats) = 0;
};

// Converts t.values in place (rows for row/block-scope formats: the first dimension). Fills
// `stats` when given. The result does not depend on the pool's thread count.
void convert(const QuantSpec& spec, QTensor& t, const QuantContext& context, TensorStats* stats);

// Largest finite |x| (0 when none), and the zero, subnormal and NaN counts of fp32 values: the
// statistics of a tensor left in fp32.
float finite_max_abs(std::span<const float> x);
ConversionCounts fp32_counts(std::span<const float> x);

}  // namespace lpsim::nn
