// The processes sharing a sweep. Started by an MPI launcher (mpirun, or Slurm's srun with PMIx or
// PMI2), they are the ranks of MPI_COMM_WORLD; otherwise there is one process and MPI is never
// initialised, so `lpsim sweep` needs no launcher and runs as root. Only the calling (main)
// thread may use it.
#pragma once
#include <string>
#include <vector>

namespace lpsim::sweep {

class Cluster {
 public:
  Cluster();  // MPI_Init_thread when a launcher started the process
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool mpi() const { return mpi_; }
  std::string host() const;

  void barrier();
  // Rank 0 gets every rank's text, in rank order; the other ranks an empty vector.
  std::vector<std::string> gather(const std::string& text);
  // Ends every process of the job with `status` (a failure no other rank can know of).
  [[noreturn]] void abort(int status);

 private:
  bool mpi_ = false;
  int rank_ = 0, size_ = 1;
};

}  // namespace lpsim::sweep
