// The learner of every scheme that plans nn::Model's layers: the scheme's conversions and GEMM
// engines in the forward and backward passes, softmax cross-entropy on the (converted) logits,
// loss scaling with skipped steps, and the scheme's optimizer on fp32 master weights.
#pragma once
#include <memory>

#include "sim/schemes/learner.hpp"
#include "sim/schemes/scheme.hpp"

namespace lpsim::train {

// Applies the scheme to settings.model (which must outlive the learner).
std::unique_ptr<schemes::Learner> make_float_learner(const schemes::Scheme& scheme,
                                                     const schemes::LearnerSettings& settings);

}  // namespace lpsim::train
