// Data-parallel loops of the integer path over fixed pieces (sizes independent of the thread
// count), each piece returning its own partial result, combined in piece order.
#pragma once
#include <cstddef>
#include <vector>

#include "sim/nn/thread_pool.hpp"

namespace lpsim::schemes::niti {

// body(first, count) for consecutive pieces of `size` items of [0, n), spread over the pool.
template <class F>
void for_pieces(nn::ThreadPool& pool, std::size_t n, std::size_t size, F&& body) {
  pool.parallel_for((n + size - 1) / size, [&](std::size_t i) {
    const std::size_t first = i * size;
    body(first, n - first < size ? n - first : size);
  });
}

// The results of piece(first, count) over pieces of `size` items of [0, n), in piece order.
template <class T, class F>
std::vector<T> map_pieces(nn::ThreadPool& pool, std::size_t n, std::size_t size, F&& piece) {
  std::vector<T> out((n + size - 1) / size);
  for_pieces(pool, n, size, [&](std::size_t first, std::size_t count) {
    out[first / size] = piece(first, count);
  });
  return out;
}

// Pieces of element-wise loops.
inline constexpr std::size_t kElementsPerPiece = 16384;

}  // namespace lpsim::schemes::niti
