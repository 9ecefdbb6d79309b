#include "sim/sweep/papers.hpp"

#include "papers_toml.hpp"

namespace lpsim::sweep {

std::string_view papers_toml() { return generated::kPapersToml; }

}  // namespace lpsim::sweep
