// JIT kernels loaded onto the GPU: compiled (or taken from the disk cache), loaded once per
// process with cudaLibraryLoadData, and launched through the runtime's cudaKernel_t handle.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "jit/kernel_source.hpp"
#include "jit/nvrtc_compile.hpp"

namespace fp8kit::jit {

// How a launch orders against the kernel before it in the stream.
enum class LaunchOrder {
  kSerial,        // starts after the previous kernel has finished (a plain launch)
  kProgrammatic,  // may be scheduled while the previous kernel runs (programmatic dependent
                  // launch); the kernel must call fp8kit::wait_for_prior_grids (common/pdl.cuh)
                  // before it touches global memory
};

class LoadedKernel {
 public:
  LoadedKernel(const CompiledKernel& compiled, const std::string& entry);
  ~LoadedKernel();
  LoadedKernel(const LoadedKernel&) = delete;
  LoadedKernel& operator=(const LoadedKernel&) = delete;

  const std::string& name() const { return name_; }
  const ResourceUsage& usage() const { return usage_; }
  bool from_disk_cache() const { return from_disk_cache_; }

  // Raises the dynamic shared-memory limit (needed above 48 KiB) for the current device.
  void set_max_dynamic_smem(std::size_t bytes) const;
  // How many clusters of this kernel (compiled with __cluster_dims__(cluster_size, 1, 1)) fit on
  // the current device at once with `block` threads and `smem_bytes` of dynamic shared memory a CTA
  // (cudaOccupancyMaxActiveClusters; a cluster stays within one GPC).
  int max_active_clusters(int cluster_size, dim3 block, std::size_t smem_bytes) const;
  // `args` points at the kernel's parameters, as cudaLaunchKernel takes them.
  void launch(dim3 grid, dim3 block, std::size_t smem_bytes, cudaStream_t stream, void** args,
              LaunchOrder order = LaunchOrder::kSerial) const;

  template <typename Params>
  void launch_with(dim3 grid, dim3 block, std::size_t smem_bytes, cudaStream_t stream, const Params& params,
                   LaunchOrder order = LaunchOrder::kSerial) const {
    void* args[] = {const_cast<Params*>(&params)};
    launch(grid, block, smem_bytes, stream, args, order);
  }

 private:
  std::string name_;
  ResourceUsage usage_;
  bool from_disk_cache_ = false;
  cudaLibrary_t library_ = nullptr;
  cudaKernel_t kernel_ = nullptr;
};

// The process-wide loaded kernel for `source` (thread-safe; compiled and loaded on first use).
const LoadedKernel& load_kernel(const KernelSource& source);

}  // namespace fp8kit::jit
