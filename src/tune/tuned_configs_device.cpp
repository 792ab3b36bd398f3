// find_tuned_config on the current CUDA device: kept apart so the lookup itself stays pure C++.
#include <cuda_runtime_api.h>

#include <map>
#include <mutex>

#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "tune/tuned_configs.hpp"

namespace fp8kit::tune {

std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out) {
  // cudaGetDeviceProperties costs far more than a GEMM launch: ask once per ordinal.
  static std::mutex mutex;
  static std::map<int, std::string> names;
  int ordinal = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&ordinal));
  std::string name;
  {
    std::lock_guard lock(mutex);
    auto it = names.find(ordinal);
    if (it == names.end()) it = names.emplace(ordinal, cuda::device_info(ordinal).name).first;
    name = it->second;
  }
  return find_tuned_config(shape, out, name);
}

}  // namespace fp8kit::tune
