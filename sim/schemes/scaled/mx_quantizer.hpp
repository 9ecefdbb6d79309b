// OCP Microscaling for GEMM operands: blocks of 32 elements along the dimension the GEMM reduces,
// one E8M0 scale per block (formats' quantize_block with the mx rule on a gathered copy).
//
// Which dimension: a tensor N x C x H x W (activations NCHW, output gradients, weights KCRS) is
// viewed as [outer][length][inner] with the blocks running along `length` at each fixed (outer,
// inner):
//   dim1: length = C (outer = N, inner = H*W): activations and output gradients along their
//         channels at each pixel; weights along their input channels at each (filter, r, s)
//   dim0: length = N (outer = 1, inner = C*H*W): weights along their filters at each (c, r, s),
//         activations and output gradients along the batch at each (channel, pixel)
// Forward y = conv(x, w) reduces over (c, r, s): x and w along dim1 (channels, as an implicit
// GEMM over channels-last data blocks them, and as microxcaling's conv quantizes axis 1).
// Backward-data reduces over (k, r, s): dy along dim1 (its channels are the filters), w along dim0.
// The weight gradient reduces over (n, oh, ow): x and dy along dim0 (the batch), which
// mx_weight_grad_engine requantizes from the fp32 originals the A and E quantizers kept.
// Dense layers are the 1 x 1 case: rows of the N x C activations, K x C weights.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/block_format.hpp"
#include "sim/nn/engine.hpp"
#include "sim/nn/quant.hpp"

namespace lpsim::schemes::scaled {

enum class BlockAxis : std::uint8_t { dim0, dim1 };
std::string_view to_string(BlockAxis a);

struct MxResult {
  ConversionCounts counts;
  bool has_exponent = false;               // some block has a scale that is not NaN
  int min_exponent = 0, max_exponent = 0;  // over those blocks
};

// Quantizes t's values in place with blocks (format.scope == block) along `axis`; the gathered
// copy's element j (row r = (outer, inner) index, column l) rounds as element first_index + r *
// length + l. Rows are split over the pool in fixed chunks (the same bits for any thread count).
MxResult quantize_along(const BlockFormat& format, const ConvertPolicy& policy, nn::Tensor& t,
                        BlockAxis axis, std::uint64_t first_index, nn::ThreadPool& pool);

// The QuantSpec::custom of one (layer, role, direction). A layer's second tensor of the role (the
// bias) is not a GEMM operand and stays fp32. With `keep_original`, each training conversion keeps
// the fp32 tensor it was given for mx_weight_grad_engine.
class MxQuantizer final : public nn::Quantizer {
 public:
  MxQuantizer(BlockFormat format, ConvertPolicy policy, BlockAxis axis, bool keep_original);
  std::string describe() const override;
  std::vector<nn::StatColumn> columns() const override;
  void apply(nn::QTensor& t, const nn::QuantContext& context, nn::TensorStats* stats) override;

  const BlockFormat& format() const { return format_; }
  const ConvertPolicy& policy() const { return policy_; }
  // The last training conversion's input, and its index base and random stream.
  const nn::Tensor& original() const { return original_; }
  std::uint64_t original_first_index() const { return original_first_index_; }
  std::uint32_t original_stream() const { return original_stream_; }

 private:
  BlockFormat format_;
  ConvertPolicy policy_;
  BlockAxis axis_;
  bool keep_original_;
  nn::Tensor original_;
  std::uint64_t original_first_index_ = 0;
  std::uint32_t original_stream_ = 0;
};

// A GEMM engine that runs forward and backward-data on `inner` as given, and the weight gradient
// on copies of the layer's activations and output gradient requantized along the batch (dim0)
// from the originals its quantizers kept, in their formats (stochastic draws on a stream of their
// own). Throws std::logic_error when the kept tensors do not match the operands.
std::shared_ptr<const nn::GemmEngine> mx_weight_grad_engine(
    std::shared_ptr<const nn::GemmEngine> inner, std::shared_ptr<const MxQuantizer> activations,
    std::shared_ptr<const MxQuantizer> gradients);

}  // namespace lpsim::schemes::scaled
