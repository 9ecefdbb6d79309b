#include "sim/schemes/niti/rounding.hpp"

#include <bit>

namespace lpsim::schemes::niti {

int range_bits(std::uint32_t max_magnitude) {
  std::uint64_t m = max_magnitude;
  if (m == 0) return 0;
  // fp32 keeps 24 significant bits: round the rest off, nearest-even.
  if (const int drop = std::bit_width(m) - 24; drop > 0) {
    const std::uint64_t kept = m >> drop, rest = m & ((std::uint64_t{1} << drop) - 1),
                        half = std::uint64_t{1} << (drop - 1);
    m = (kept + (rest > half || (rest == half && (kept & 1)))) << drop;
  }
  return m == 1 ? 0 : std::bit_width(m - 1);  // ceil(log2 m)
}

}  // namespace lpsim::schemes::niti
