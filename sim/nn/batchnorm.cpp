// BatchNorm2d: per-channel statistics over the batch and positions, in double, in index order.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "sim/nn/layers.hpp"
#include "sim/nn/thread_pool.hpp"

namespace lpsim::nn {

BatchNorm2d::BatchNorm2d(std::string name, int channels, float eps, float momentum)
    : Layer(std::move(name), LayerKind::batchnorm),
      running_mean(std::size_t(channels), 0.0f),
      running_var(std::size_t(channels), 1.0f),
      channels_(channels),
      eps_(eps),
      momentum_(momentum),
      mean_(std::size_t(channels)),
      inv_std_(std::size_t(channels)) {
  if (channels < 1) throw std::invalid_argument(this->name() + ": no channels");
  const Dims d{std::size_t(channels), 1, 1, 1};
  gamma.name = this->name() + ".gamma";
  gamma.value.resize(d);
  std::fill(gamma.value.data.begin(), gamma.value.data.end(), 1.0f);
  beta.name = this->name() + ".beta";
  beta.value.resize(d);
  std::fill(beta.value.data.begin(), beta.value.data.end(), 0.0f);
  gamma.batchnorm = beta.batchnorm = true;
}

Dims BatchNorm2d::output_dims(const Dims& input) const {
  if (input.c != std::size_t(channels_))
    throw std::invalid_argument(name() + ": expects " + std::to_string(channels_) +
                                " channels, got " + to_string(input));
  return input;
}

void BatchNorm2d::forward(const QTensor& x, Tensor& y, Pass& pass) {
  const Dims d = output_dims(x.values.dims);
  y.resize(d);
  gamma_used_.values = gamma.value;
  convert(Role::BN, Direction::forward, gamma_used_, pass, "gamma");
  beta_used_.values = beta.value;
  convert(Role::BN, Direction::forward, beta_used_, pass, "beta");
  const std::size_t plane = d.plane(), count = d.n * plane;
  // The statistics it normalises with, per channel: the batch's (training) or the running ones.
  const Dims per_channel{std::size_t(channels_), 1, 1, 1};
  Tensor mean, stddev;
  mean.resize(per_channel);
  stddev.resize(per_channel);
  std::vector<double> exact_std(per_channel.n);
  pass.pool.parallel_for(d.c, [&](std::size_t c) {
    if (!pass.training) {
      mean.data[c] = running_mean[c];
      exact_std[c] = std::sqrt(double(running_var[c]) + eps_);
      stddev.data[c] = float(exact_std[c]);
      return;
    }
    double sum = 0;
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t p = 0; p < plane; ++p) sum += x.values.sample(n)[c * plane + p];
    const double m = sum / double(count);
    double squares = 0;
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t p = 0; p < plane; ++p) {
        const double dev = x.values.sample(n)[c * plane + p] - m;
        squares += dev * dev;
      }
    const double var = squares / double(count);
    mean.data[c] = float(m);
    exact_std[c] = std::sqrt(var + eps_);
    stddev.data[c] = float(exact_std[c]);
    const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
    running_mean[c] = float((1.0 - momentum_) * running_mean[c] + momentum_ * m);
    running_var[c] = float((1.0 - momentum_) * running_var[c] + momentum_ * unbiased);
  });
  convert(Role::BN, Direction::forward, mean, pass, "mean");
  convert(Role::BN, Direction::forward, stddev, pass, "std");
  std::vector<float> inv_std(per_channel.n);
  for (std::size_t c = 0; c < d.c; ++c) {
    // 1/std rounded once to fp32: from the exact std when the conversion kept its fp32 value.
    const bool kept = stddev.data[c] == float(exact_std[c]);
    inv_std[c] = float(1.0 / (kept ? exact_std[c] : double(stddev.data[c])));
  }
  if (pass.training) {
    mean_ = mean.data;
    inv_std_ = inv_std;
  }
  // x-hat, converted as a whole, then gamma and beta: y holds x-hat in between.
  pass.pool.parallel_for(d.n, [&](std::size_t n) {
    for (std::size_t c = 0; c < d.c; ++c) {
      const float* in = x.values.sample(n) + c * plane;
      float* out = y.sample(n) + c * plane;
      for (std::size_t p = 0; p < plane; ++p) out[p] = (in[p] - mean.data[c]) * inv_std[c];
    }
  });
  convert(Role::BN, Direction::forward, y, pass, "xhat");
  if (pass.training) xhat_ = y;
  pass.pool.parallel_for(d.n, [&](std::size_t n) {
    for (std::size_t c = 0; c < d.c; ++c) {
      const float g = gamma_used_.values.data[c], b = beta_used_.values.data[c];
      float* out = y.sample(n) + c * plane;
      for (std::size_t p = 0; p < plane; ++p) out[p] = out[p] * g + b;
    }
  });
}

void BatchNorm2d::backward(const QTensor& x, QTensor& dy, Tensor* dx, Pass& pass) {
  const Dims d = x.values.dims;
  const std::size_t plane = d.plane(), count = d.n * plane;
  gamma.grad.resize(gamma.value.dims);
  beta.grad.resize(beta.value.dims);
  if (dx) dx->resize(d);
  pass.pool.parallel_for(d.c, [&](std::size_t c) {
    const float mean = mean_[c], inv_std = inv_std_[c];
    // gamma multiplied the converted x-hat; dx flows through its conversion unchanged.
    double sum_dy = 0, sum_dy_xhat = 0, sum_dy_xhat_used = 0;
    for (std::size_t n = 0; n < d.n; ++n) {
      const float* in = x.values.sample(n) + c * plane;
      const float* used = xhat_.sample(n) + c * plane;
      const float* g = dy.values.sample(n) + c * plane;
      for (std::size_t p = 0; p < plane; ++p) {
        sum_dy += g[p];
        sum_dy_xhat += double(g[p]) * double((in[p] - mean) * inv_std);
        sum_dy_xhat_used += double(g[p]) * double(used[p]);
      }
    }
    gamma.grad.data[c] = float(sum_dy_xhat_used);
    beta.grad.data[c] = float(sum_dy);
    if (!dx) return;
    // dx = gamma inv_std / M (M dy - sum dy - xhat sum(dy xhat))
    const float scale = float(double(gamma_used_.values.data[c]) * inv_std / double(count));
    const float total_dy = float(sum_dy), total_dy_xhat = float(sum_dy_xhat);
    for (std::size_t n = 0; n < d.n; ++n) {
      const float* in = x.values.sample(n) + c * plane;
      const float* g = dy.values.sample(n) + c * plane;
      float* out = dx->sample(n) + c * plane;
      for (std::size_t p = 0; p < plane; ++p) {
        const float xhat = (in[p] - mean) * inv_std;
        out[p] = scale * (float(count) * g[p] - total_dy - xhat * total_dy_xhat);
      }
    }
  });
  convert(Role::G, Direction::backward, gamma.grad, pass, "gamma");
  convert(Role::G, Direction::backward, beta.grad, pass, "beta");
}

void BatchNorm2d::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&gamma);
  out.push_back(&beta);
}

}  // namespace lpsim::nn
