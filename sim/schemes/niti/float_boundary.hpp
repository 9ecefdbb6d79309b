// No floating point in the integer path, by construction: the training step's arithmetic is the
// namespace lpsim::schemes::niti (rounding, products, network, loss, update), whose functions
// take and return integers only, and tests/cli/niti.sh disassembles the lpsim binary and fails
// when any function of that namespace holds a floating-point instruction (x87, or SSE/AVX
// arithmetic, comparison or conversion on ss/sd/ps/pd). The exceptions are named:
//   - here, namespace niti_float: where NITI's own code computes in floating point -- the data
//     enter as floats (TiFloatToInt8), the initial weights come from a float initialisation
//     (weight_quant), the HEAD loss divides in float32 -- and what lpsim reports from the integer
//     logits (loss and accuracy in double), which no training step reads;
//   - the CUTLASS fp32 epilogue of the convolutions, which is formats' (AccumulatorSpec::
//     fp32_epilogue, applied through formats' dot()).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "sim/nn/loss.hpp"
#include "sim/nn/quant.hpp"
#include "sim/schemes/niti/network.hpp"

namespace lpsim::schemes::niti_float {

// TiFloatToInt8 (HEAD, each batch): b = ceil(log2 max |x|), exponent b - 7, codes
// clamp(round-half-even(x * 2^(7-b)), -128, 127) (torch.round; -128 only here). An all-zero batch
// gets exponent -7 (NITI's log2(0) would give -inf). Fills `stats` when given: max_abs, the
// exponent, counts.saturated (values clamped), counts.zero.
niti::IntTensor float_to_int8(const nn::Tensor& x, nn::TensorStats* stats);

// weight_quant (NITI's weight initialisation): codes round-half-even(w / max |w| * 127) in fp32,
// exponent ceil(log2 max |w|) - 7: the codes are scaled to 127 while the exponent rounds up to a
// power of two, so code * 2^exponent != w (SCHEMES.md ambiguity 8). Returns the exponent; throws
// std::invalid_argument when every weight is zero.
int weight_quant(std::span<const float> weights, std::span<std::int8_t> codes);

// ti_loss.py at HEAD: the integer cross-entropy backward with true division, so its intermediates
// are float32 (PyTorch's int64 / int): s = q * 47274 / 2^15 scaled by 2^exponent; when exponent
// > -7, p~ = 2^(s - max_row s + 10) - 1 (0 below), else the integer Taylor form; p = p~ * 2^11 /
// sum_row trunc(p~); p[label] -= sum_row trunc(p); each p truncated to int32. exp2f stands for
// CUDA's pow, which may differ from it in the last bit. Writes N x classes values of `p`.
void float_division_softmax_error(std::span<const std::int8_t> logits, std::size_t classes,
                                  int exponent, std::span<const std::uint8_t> labels,
                                  std::span<std::int32_t> p);

// Cross-entropy and correct count of the logits' values (codes * 2^exponent), in double, for the
// trace and the progress line only.
nn::LossResult logits_loss(const niti::IntTensor& logits, std::span<const std::uint8_t> labels);

}  // namespace lpsim::schemes::niti_float
