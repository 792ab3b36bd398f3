#include "cuda/driver.hpp"

#include <cuda_runtime_api.h>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "cuda/device.hpp"

namespace fp8kit::cuda {

void* driver_entry_point(const char* symbol, unsigned cuda_version) {
  require_device(fmt::format("driver function {}", symbol));
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
  FP8KIT_CUDA_CHECK(cudaGetDriverEntryPointByVersion(symbol, &fn, cuda_version, cudaEnableDefault, &found));
  if (found != cudaDriverEntryPointSuccess || fn == nullptr) {
    throw_environment(fmt::format("the CUDA driver has no {} for CUDA {} (query result {})", symbol,
                                  cuda_version, static_cast<int>(found)));
  }
  return fn;
}

}  // namespace fp8kit::cuda
