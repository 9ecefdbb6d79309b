#include "sim/data/batches.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "sim/data/mix.hpp"

namespace lpsim::data {

namespace {

// Uniform in [0, bound) by rejection (std::uniform_int_distribution's algorithm is left to the
// library, so its draws differ between standard libraries).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % bound;  // a multiple of bound
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % bound;
}

}  // namespace

std::vector<std::uint32_t> epoch_order(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("epoch_order: " + std::to_string(n) + " samples do not fit 32-bit indices");
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(hash_keys({seed, epoch}));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[uniform_below(rng, i)]);
  return order;
}

void gather(const Dataset& data, std::span<const std::uint32_t> indices, std::span<float> images,
            std::span<std::uint8_t> labels) {
  const std::size_t floats = data.shape.size();
  if (images.size() != indices.size() * floats || labels.size() != indices.size())
    throw std::invalid_argument("gather: buffers do not hold " + std::to_string(indices.size()) + " samples");
  for (std::size_t b = 0; b < indices.size(); ++b) {
    if (indices[b] >= data.size())
      throw std::invalid_argument("gather: index " + std::to_string(indices[b]) + " is outside " + data.name);
    const std::span<const float> image = data.image(indices[b]);
    std::copy(image.begin(), image.end(), images.begin() + b * floats);
    labels[b] = data.labels[indices[b]];
  }
}

Batches::Batches(const Dataset& data, BatchOptions options) : data_(data), options_(options) {
  if (options_.batch_size == 0) throw std::invalid_argument("Batches: batch_size must be positive");
  images_.resize(options_.batch_size * data_.shape.size());
  labels_.resize(options_.batch_size);
  start_epoch(0);
}

void Batches::start_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  position_ = 0;
  if (options_.shuffle) {
    order_ = epoch_order(data_.size(), options_.seed, epoch);
  } else {
    order_.resize(data_.size());
    std::iota(order_.begin(), order_.end(), 0u);
  }
}

std::size_t batches_per_epoch(std::size_t samples, const BatchOptions& options) {
  const std::size_t b = options.batch_size;
  return options.drop_last ? samples / b : (samples + b - 1) / b;
}

std::size_t Batches::batches_per_epoch() const {
  return data::batches_per_epoch(data_.size(), options_);
}

std::optional<Batch> Batches::next() {
  const std::size_t count = std::min(options_.batch_size, order_.size() - position_);
  if (count == 0 || (options_.drop_last && count < options_.batch_size)) return std::nullopt;
  const std::span<const std::uint32_t> indices(order_.data() + position_, count);
  position_ += count;
  const std::size_t floats = count * data_.shape.size();
  gather(data_, indices, std::span(images_).first(floats), std::span(labels_).first(count));
  return Batch{data_.shape, std::span(images_).first(floats), std::span(labels_).first(count), indices};
}

}  // namespace lpsim::data
