// Deterministic shuffling and batching. The order of an epoch is a function of (n, seed, epoch)
// alone: a Fisher-Yates shuffle driven by std::mt19937_64 (whose output the C++ standard fixes)
// with a portable bounded draw, so it is the same on every platform and with any threading.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sim/data/dataset.hpp"

namespace lpsim::data {

// A permutation of 0 .. n-1 (n < 2^32, else std::invalid_argument).
std::vector<std::uint32_t> epoch_order(std::size_t n, std::uint64_t seed, std::uint64_t epoch);

struct BatchOptions {
  std::size_t batch_size = 0;  // > 0
  bool drop_last = false;      // drop the final partial batch instead of yielding it short
  bool shuffle = true;         // false: dataset order in every epoch
  std::uint64_t seed = 0;
};

// Batches in an epoch of `samples` samples.
std::size_t batches_per_epoch(std::size_t samples, const BatchOptions& options);

// A view of the current batch; valid until the next call to next() or start_epoch().
struct Batch {
  Shape shape;
  std::span<const float> images;           // size() x shape.size() floats, NCHW, contiguous
  std::span<const std::uint8_t> labels;    // size() labels
  std::span<const std::uint32_t> indices;  // the dataset index of each sample
  std::size_t size() const { return labels.size(); }
};

// Copies the samples `indices` of `data` into contiguous `images` and `labels`, which must hold
// exactly indices.size() samples (else std::invalid_argument).
void gather(const Dataset& data, std::span<const std::uint32_t> indices, std::span<float> images,
            std::span<std::uint8_t> labels);

// Walks a data set in batches, one epoch at a time, gathering each batch into buffers it owns.
// It keeps a reference to the data set, which must outlive it.
class Batches {
 public:
  Batches(const Dataset& data, BatchOptions options);  // starts epoch 0
  Batches(const Dataset&& data, BatchOptions options) = delete;

  void start_epoch(std::uint64_t epoch);
  std::optional<Batch> next();  // nullopt once the epoch is exhausted

  std::uint64_t epoch() const { return epoch_; }
  std::size_t batches_per_epoch() const;
  std::span<const std::uint32_t> order() const { return order_; }  // this epoch's sample order

 private:
  const Dataset& data_;
  BatchOptions options_;
  std::uint64_t epoch_ = 0;
  std::size_t position_ = 0;  // into order_
  std::vector<std::uint32_t> order_;
  std::vector<float> images_;
  std::vector<std::uint8_t> labels_;
};

}  // namespace lpsim::data
