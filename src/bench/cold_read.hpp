// The cold-read floor of `bench gemm --timing cold`: how long reading a call's bytes from HBM takes
// when nothing else is done, timed the way the cold rows are (calls back to back in a graph, each on
// another copy of its inputs, launched programmatically after the previous one). At decode sizes
// the ramp and drain of each call are a large part of its time, which the copy ceiling (a 256 MiB
// copy) hides: this says what share of the reachable a GEMM of that many bytes achieves.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "cuda/device.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::bench {

// Rows up to this M get a floor (decode, where a GEMM is a read of its weights): above it a call is
// compute-bound and each floor would add about a second to the run.
inline constexpr std::int64_t kReadFloorMaxM = 64;

// The read kernels the floor takes the fastest of (CPU tests compile each for sm_90a).
std::vector<jit::KernelSource> cold_read_kernel_sources();

class ColdReadFloor {
 public:
  ColdReadFloor(const cuda::DeviceInfo& device, cudaStream_t stream) : device_(device), stream_(stream) {}

  // Median microseconds per read of `bytes` (rounded up to 16), the fastest read kernel's; each
  // kernel's blocks must have read every word (checked once) before it is timed. Remembered per size.
  double us(double bytes);

 private:
  cuda::DeviceInfo device_;
  cudaStream_t stream_;
  std::map<std::size_t, double> us_by_vectors_;
};

}  // namespace fp8kit::bench
