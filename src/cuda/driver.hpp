// Driver API entry points (cuTensorMapEncodeTiled, ...) resolved at run time through the runtime,
// so the library never links libcuda and the binary starts on a machine without a driver.
#pragma once

namespace fp8kit::cuda {

// The address of driver function `symbol` in the ABI of CUDA `cuda_version` (e.g. 12000).
// Throws fp8kit::Error(kEnvironment) when the driver lacks it.
void* driver_entry_point(const char* symbol, unsigned cuda_version);

template <typename Fn>
Fn driver_function(const char* symbol, unsigned cuda_version) {
  return reinterpret_cast<Fn>(driver_entry_point(symbol, cuda_version));
}

}  // namespace fp8kit::cuda
