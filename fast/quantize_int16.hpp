// f32 tensors to the int16 operands of the integer kernels: fixed-point codes under one shared
// exponent (dynamic fixed point: Das et al.'s DFP16 and the other tensor-scope rules of
// formats/block_format.hpp), with the dequantized values and the conversion counts, in two
// vectorised passes (AVX2, chosen at run time; scalar otherwise). Every result is bit-identical
// to formats' quantize_block() (tests/fast/test_quantize_int16.cpp checks each rounding mode,
// ties, saturation, NaN and infinities on every ISA path).
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "formats/block_format.hpp"
#include "formats/convert.hpp"

namespace lpsim::fast {

// Largest finite |x| (0 when none): the amax of every rule but mx.
float finite_max_abs(std::span<const float> in, std::optional<Isa> isa = std::nullopt);

// Whether quantize_int16 computes `element` under `p` exactly as encode() does: signed
// fixed point whose codes fit in int16, and an overflow policy that saturates (fixed point
// saturates under every policy but wrap).
bool int16_quantizable(const FixedFormat& element, const ConvertPolicy& p);

// Element i becomes k_i = round(in[i] * 2^(frac_bits - exponent)) by p's rounding (stochastic:
// element first_index + i's random number), saturated to the element's range; NaN gives 0 and
// counts invalid; infinities saturate. codes[i] = k_i, dequantized[i] = k_i * 2^(exponent -
// frac_bits) as f32, both as quantize_block() writes them (either span may be empty;
// dequantized may be `in` itself). Returns the counts quantize_block() returns.
// Requires int16_quantizable(element, p).
ConversionCounts quantize_int16(const FixedFormat& element, int exponent, std::span<const float> in,
                                std::span<std::int16_t> codes, std::span<float> dequantized,
                                const ConvertPolicy& p, std::uint64_t first_index = 0,
                                std::optional<Isa> isa = std::nullopt);

}  // namespace lpsim::fast
