#include "sim/schemes/niti/loss.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/rounding.hpp"
#include "sim/nn/random.hpp"

namespace lpsim::schemes::niti {

namespace {

constexpr int kErrorShift = 4;          // StoShift(p, 4): units 2^-11 -> 2^-7
constexpr int kSoftmaxBits = 11;        // p in units of 2^-11
constexpr std::int64_t kLog2E = 47274;  // / 2^15 ~ log2(e)
constexpr int kStepIndexShift = 36;     // each step's draws start at a fresh index block

// PyTorch's int64 arithmetic wraps (two's complement).
std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return std::int64_t(std::uint64_t(a) + std::uint64_t(b));
}
std::int64_t wrapping_mul(std::int64_t a, std::int64_t b) {
  return std::int64_t(std::uint64_t(a) * std::uint64_t(b));
}
std::int64_t wrapping_pow2(std::int64_t n) {  // 2**n for n >= 0
  return n >= 64 ? 0 : std::int64_t(std::uint64_t{1} << n);
}

}  // namespace

std::int64_t taylor_unnormalised(std::int8_t q, int exponent) {
  return wrapping_add(wrapping_add(wrapping_pow2(1 - 2 * std::int64_t{exponent}),
                                   wrapping_mul(q, wrapping_pow2(1 - std::int64_t{exponent}))),
                      std::int64_t{q} * q);
}

void integer_softmax_error(std::span<const std::int8_t> logits, std::size_t classes, int exponent,
                           std::span<const std::uint8_t> labels, Division division,
                           std::span<std::int32_t> p) {
  std::vector<std::int64_t> unnormalised(classes);
  for (std::size_t row = 0; row < labels.size(); ++row) {
    const std::int8_t* q = logits.data() + row * classes;
    if (base2_branch(exponent)) {
      for (std::size_t i = 0; i < classes; ++i) {
        std::int64_t s = divide(q[i] * kLog2E, std::int64_t{1} << 15, division);
        s = exponent >= 0 ? wrapping_mul(s, wrapping_pow2(exponent))
                          : divide(s, std::int64_t{1} << -exponent, division);
        unnormalised[i] = s;
      }
      const std::int64_t offset = *std::max_element(unnormalised.begin(), unnormalised.end()) - 10;
      for (std::int64_t& s : unnormalised)
        s = wrapping_pow2(std::max<std::int64_t>(s - offset, 0)) - 1;
    } else {
      for (std::size_t i = 0; i < classes; ++i)
        unnormalised[i] = taylor_unnormalised(q[i], exponent);
    }
    std::int64_t sum = 0;
    for (std::int64_t v : unnormalised) sum = wrapping_add(sum, v);
    if (sum <= 0)
      throw std::runtime_error(
          "niti-int8: the integer softmax overflowed int64 at logit exponent " +
          std::to_string(exponent));
    std::int32_t* out = p.data() + row * classes;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < classes; ++i) {
      out[i] =
          std::int32_t(divide(wrapping_mul(unnormalised[i], 1 << kSoftmaxBits), sum, division));
      total += out[i];
    }
    out[labels[row]] = std::int32_t(out[labels[row]] - total);
  }
}

Requantization sto_shift_error(std::span<const std::int32_t> p, std::span<std::int8_t> err,
                               Division division, std::uint64_t seed, std::uint64_t step,
                               nn::ThreadPool& pool) {
  const ShiftRule rule{.rounding = ShiftRounding::sto_shift,
                       .division = division,
                       .random = {.mode = Rounding::stochastic,
                                  .random_bits = kErrorShift,
                                  .seed = seed,
                                  .stream = std::uint32_t(nn::name_hash("niti.loss"))},
                       .first_index = step << kStepIndexShift};
  Requantization r = shift_to_int8(p, err, kErrorShift, rule, pool);
  r.source_exponent = -kErrorShift;
  return r;
}

}  // namespace lpsim::schemes::niti
