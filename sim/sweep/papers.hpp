// The built-in "papers" sweep: every scheme on Fashion-MNIST with a few rounding and accumulator
// variants, sized to finish in about 15 minutes on 2 cores (sim/sweep/papers.toml).
#pragma once
#include <string_view>

namespace lpsim::sweep {

inline constexpr std::string_view kPapersFile = "papers.toml";  // its name in messages

std::string_view papers_toml();

}  // namespace lpsim::sweep
