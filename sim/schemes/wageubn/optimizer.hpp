// WAGEUBN's update (the code's imagenet_main.py): TensorFlow's MomentumOptimizer with momentum
// 0.25 on the quantized gradients (the layers' G rules already hold the weight decay),
//   accum = momentum accum + G;  w = w - lr_q accum,  lr_q = flr(lr) = clip(Q(lr, 10), 10),
// then accum := Q(accum, 13) and w := Q(w, 24) ("update, then quantize": the code groups these
// assignments with the update without an order, SCHEMES.md ambiguity 9; `requantize_first`
// quantizes the stored accum and w before the update instead). The first and last GEMM layers'
// parameters -- the layers of the first and last non-batch-norm parameters, which
// collect_parameters lists in forward order -- keep fp32 storage unless quantized by option.
// start() sets the quantized-storage weights to Q(w, 16), the code's quantized initialisation.
// Records one U row per parameter: the momentum's re-quantization (fp32 storage: the momentum as
// it is), lr_q and g_scale.
#pragma once
#include <memory>

#include "sim/nn/optimizer.hpp"
#include "sim/schemes/wageubn/schedule.hpp"

namespace lpsim::schemes::wageubn {

struct MomentumRule {
  float momentum = 0.25f;
  int lr_bits = 10, momentum_bits = 13, weight_bits = 24, init_bits = 16;  // 32: fp32
  bool quantize_first = false, quantize_last = false;
  bool requantize_first = false;
  std::shared_ptr<const Schedule> schedule;
};

// flr: clip(Q(lr, bits), bits), or lr itself for 32 bits.
float quantize_lr(float lr, int bits);

std::unique_ptr<nn::Optimizer> make_optimizer(const MomentumRule& rule);

}  // namespace lpsim::schemes::wageubn
