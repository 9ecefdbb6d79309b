#include "sim/nn/layer.hpp"

#include "sim/nn/random.hpp"

namespace lpsim::nn {

std::string_view to_string(LayerKind k) {
  switch (k) {
    case LayerKind::linear:
      return "linear";
    case LayerKind::conv:
      return "conv";
    case LayerKind::batchnorm:
      return "batchnorm";
    case LayerKind::relu:
      return "relu";
    case LayerKind::maxpool:
      return "maxpool";
    case LayerKind::avgpool:
      return "avgpool";
    case LayerKind::dropout:
      return "dropout";
    case LayerKind::flatten:
      return "flatten";
    case LayerKind::residual:
      return "residual";
    case LayerKind::sequential:
      return "sequential";
  }
  return "?";
}

std::span<const QuantPoint> quant_points(LayerKind kind) {
  using enum Role;
  constexpr Direction f = Direction::forward, b = Direction::backward;
  static constexpr QuantPoint gemm[] = {{A, f}, {W, f}, {W, b}, {E, b}, {G, b}};
  static constexpr QuantPoint batchnorm[] = {{A, f}, {BN, f}, {E, b}, {G, b}};
  static constexpr QuantPoint activation[] = {{A, f}, {E, b}};
  switch (kind) {
    case LayerKind::linear:
    case LayerKind::conv:
      return gemm;
    case LayerKind::batchnorm:
      return batchnorm;
    case LayerKind::residual:
    case LayerKind::sequential:
      return {};
    default:
      return activation;
  }
}

namespace {

Direction usual_direction(Role r) {
  return r == Role::W || r == Role::A || r == Role::BN ? Direction::forward : Direction::backward;
}

// Each step's stochastic draws start at a fresh index block (2^36 elements per tensor and step).
constexpr int kStepIndexShift = 36;

}  // namespace

std::string trace_role(Role role, Direction direction, std::string_view part) {
  std::string text(to_string(role));
  if (direction != usual_direction(role)) text.append(".").append(to_string(direction));
  if (!part.empty()) text.append(".").append(part);
  return text;
}

void Layer::convert(Role role, Direction direction, QTensor& t, Pass& pass,
                    std::string_view part) const {
  const QuantSpec& planned = plan_.spec(role, direction);
  const bool gemm_layer = kind_ == LayerKind::conv || kind_ == LayerKind::linear;
  const bool record = pass.recorder && (!planned.is_fp32() || gemm_layer);
  TensorStats stats;
  const std::string role_name = trace_role(role, direction, part);
  // Every tensor of every layer draws its random numbers from its own stream.
  const QuantContext context{.pool = pass.pool,
                             .step = pass.step,
                             .epoch = pass.epoch,
                             .total_steps = pass.total_steps,
                             .training = pass.training,
                             .first_index = pass.step << kStepIndexShift,
                             .stream = std::uint32_t(name_hash(name_ + "/" + role_name)),
                             .part = part};
  if (!planned.is_fp32() && !planned.custom &&
      planned.policy.rounding.mode == Rounding::stochastic) {
    QuantSpec spec = planned;
    spec.policy.rounding.stream = context.stream;
    nn::convert(spec, t, context, record ? &stats : nullptr);
  } else {
    nn::convert(planned, t, context, record ? &stats : nullptr);
  }
  if (record) pass.recorder->record(name_, role_name, stats);
}

void Layer::convert(Role role, Direction direction, Tensor& t, Pass& pass,
                    std::string_view part) const {
  QTensor q;
  std::swap(q.values, t);
  convert(role, direction, q, pass, part);
  std::swap(q.values, t);
}

}  // namespace lpsim::nn
