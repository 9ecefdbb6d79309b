#include "sim/sweep/cluster.hpp"

#include <mpi.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace lpsim::sweep {
namespace {

// Set by mpirun (OpenMPI), by PMIx launchers (srun --mpi=pmix, prterun) and by PMI2 (srun
// --mpi=pmi2).
bool launched_by_mpi() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

void check(int status, const char* what) {
  if (status != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

}  // namespace

Cluster::Cluster() {
  if (!launched_by_mpi()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  mpi_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Cluster::~Cluster() {
  if (mpi_) MPI_Finalize();
}

std::string Cluster::host() const {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

void Cluster::barrier() {
  if (mpi_) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

std::vector<std::string> Cluster::gather(const std::string& text) {
  if (!mpi_) return {text};
  const int length = int(text.size());
  std::vector<int> lengths(rank_ == 0 ? std::size_t(size_) : 0);
  check(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD),
        "MPI_Gather");
  std::vector<int> offsets(lengths.size(), 0);
  int total = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    offsets[r] = total;
    total += lengths[r];
  }
  std::string all(std::size_t(total), '\0');
  check(MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                    MPI_CHAR, 0, MPI_COMM_WORLD),
        "MPI_Gatherv");
  std::vector<std::string> texts;
  for (std::size_t r = 0; r < lengths.size(); ++r)
    texts.push_back(all.substr(std::size_t(offsets[r]), std::size_t(lengths[r])));
  return texts;
}

void Cluster::abort(int status) {
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

}  // namespace lpsim::sweep
