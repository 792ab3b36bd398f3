// The worker side of `fp8kit tune`: a hidden subcommand (`fp8kit tune-worker`) that owns one GPU
// (CUDA_VISIBLE_DEVICES) and answers the tuner's requests (worker_protocol.hpp) through a
// CandidateMeasurer. A candidate that throws is a failed reply; one that crashes or hangs the
// process is the tuner's to notice (supervised_worker.hpp).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/gemm_config.hpp"
#include "tune/worker_protocol.hpp"

namespace fp8kit::tune {

class CandidateMeasurer {
 public:
  virtual ~CandidateMeasurer() = default;
  // The device this worker measures on; throws fp8kit::Error when it cannot measure here.
  virtual WorkerHello hello() = 0;
  // Compiles the configs' kernels (in parallel, into the JIT cache); failures by kernel_name.
  virtual std::map<std::string, std::string> compile(const std::vector<GemmConfig>& configs) = 0;
  // The default heuristic's config for `shape` with base's modes and out dtype.
  virtual GemmConfig default_config(const GemmShape& shape, const GemmConfig& base) = 0;
  // Verified median time of one call in µs; throws fp8kit::Error when the candidate fails. `cold`:
  // calls rotate through copies of the inputs larger than twice the L2 (bench gemm's --timing cold).
  virtual double measure_us(const GemmShape& shape, const GemmConfig& config, bool cold) = 0;
  // False once a failure has left the process unusable (a sticky CUDA error).
  virtual bool healthy() { return true; }
};

// Serves requests from `in_fd` until "quit" or end of input; replies go to `out_fd`. Returns the
// process exit code. Sends the hello first (or a hello with the error, then returns its code).
int serve_tune_worker(int in_fd, int out_fd, CandidateMeasurer& measurer);

// For the hidden subcommand: moves the protocol off stdout (dup) and points stdout at stderr, so
// that nothing the library prints can corrupt a reply; returns the protocol's fd.
int take_protocol_stdout();

}  // namespace fp8kit::tune
