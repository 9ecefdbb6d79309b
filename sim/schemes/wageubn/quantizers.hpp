// WAGEUBN's rules (quantize.hpp) as the nn::Quantizer objects a layer plan holds, with the trace
// columns SCHEMES.md §3 asks for: R's exponent, clamps (the `saturated` count), the flag rule's
// |y| < 1 share, the share of non-zero values made zero, value ranges and g_scale.
// A width of 32 bits or more means full precision, as in Quantize.py.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/nn/quant.hpp"
#include "sim/schemes/wageubn/schedule.hpp"

namespace lpsim::schemes::wageubn {

inline constexpr int kFullPrecision = 32;

// The trace columns, shared by the quantizers and the optimizer.
nn::StatColumn r_exponent_column();
nn::StatColumn g_scale_column();
nn::StatColumn fine_fraction_column();
nn::StatColumn zeroed_fraction_column();
nn::StatColumn q_min_column();
nn::StatColumn q_max_column();

// Q(x, bits), or clip(Q(x, bits), bits) when `clipped`: fa (A), fw (W), fgBN (the BN gradients:
// the code's Q(Q(g, 15) lr, 15) with lr = 1 is Q(g, 15)). `rule` names it in /config.
std::shared_ptr<nn::Quantizer> make_direct(std::string rule, int bits, bool clipped);

// The batch-norm tensors, by part: gamma, beta, mean, std (σ_q = Q(σ, bits) + 2^-15, the code's
// BN epsilon added after the quantization) and xhat.
struct BatchNormBits {
  int gamma = 8, beta = 8, mean = 16, std = 16, xhat = 8;
};
inline constexpr float kBatchNormEpsilon = 0x1p-15f;
std::shared_ptr<nn::Quantizer> make_batchnorm(const BatchNormBits& bits);

// fe1 (shift) and fe2 (flag) on gradients.
std::shared_ptr<nn::Quantizer> make_shift(int bits);
std::shared_ptr<nn::Quantizer> make_flag(int bits);

// fg on the weight (part "") and bias ("bias") gradients of one GEMM layer, after adding
// weight_decay * w (the code's L2 term of the loss) from that layer's master weights; `bits` 32
// adds the decay only. Stochastic rounding draws from (seed, the context's stream and index).
struct GradientRule {
  int bits = 8;
  float weight_decay = 1e-4f;
  float tie = 0.5f;  // what frac == U adds
  std::uint64_t seed = 0;
  std::shared_ptr<const Schedule> schedule;
};
std::shared_ptr<nn::Quantizer> make_gradient(const GradientRule& rule, const nn::Tensor* weight,
                                             const nn::Tensor* bias);

}  // namespace lpsim::schemes::wageubn
