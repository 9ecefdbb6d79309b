// NITI's integer cross-entropy backward (ti_loss.py, SCHEMES.md §2): from the int8 logits q with
// exponent e, the softmax minus the one-hot label in units of 2^-11 (p; each row sums to 0, no
// 1/batch factor), then the error int8_clip(StoShift(p, 4)) with exponent 0 (NITI's convention;
// the true gradient is err * 2^-7 / batch).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "sim/nn/thread_pool.hpp"
#include "sim/schemes/niti/network.hpp"

namespace lpsim::schemes::niti {

// The branch ti_loss.py takes: e > -7 uses the base-2 softmax, else the Taylor form.
constexpr bool base2_branch(int exponent) { return exponent > -7; }

// p~ of the Taylor branch (e <= -7): 2^(1-2e) + q 2^(1-e) + q^2 (2 e^x ~ 2 (1 + x + x^2 / 2) for
// x = q 2^e, scaled by 2^-2e), in int64 arithmetic that wraps as PyTorch's does.
std::int64_t taylor_unnormalised(std::int8_t q, int exponent);

// The integer version (2020, `//` under `division`):
//   e > -7:  s = q * 47274 // 2^15 (47274 / 2^15 ~ log2 e), then s * 2^e or s // 2^-e;
//            s -= max_row(s) - 10; s = max(s, 0); p~ = 2^s - 1
//   else:    p~ = taylor_unnormalised(q, e)
//   p = p~ * 2^11 // sum_row(p~); p[label] -= sum_row(p).
// Writes N x classes values of `p`; throws std::runtime_error when a row's sum is not positive
// (only int64 wrap-around at e < -30 can do that).
void integer_softmax_error(std::span<const std::int8_t> logits, std::size_t classes, int exponent,
                           std::span<const std::uint8_t> labels, Division division,
                           std::span<std::int32_t> p);

// err = int8_clip(StoShift(p, 4)): away from zero iff the 4 dropped bits exceed a uniform 4-bit
// number, Philox-drawn for (seed, the loss's stream, step, element), so the bits never depend on
// the thread count. Fills shift 4, exponent 0, source_exponent -4 and the counts.
Requantization sto_shift_error(std::span<const std::int32_t> p, std::span<std::int8_t> err,
                               Division division, std::uint64_t seed, std::uint64_t step,
                               nn::ThreadPool& pool);

}  // namespace lpsim::schemes::niti
