// What the machine has: GPU properties and the versions of every CUDA library fp8kit uses.
// Everything here works on a machine with no GPU and no driver.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fp8kit::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string uuid;  // "GPU-xxxxxxxx-...", stable key for stored measurements
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  std::size_t global_memory_bytes = 0;
  std::size_t l2_bytes = 0;
  std::size_t smem_per_block_optin = 0;
  int memory_bus_width_bits = 0;
  std::string compute_capability() const;  // "9.0"
};

struct LibraryVersions {
  std::string cuda_runtime;  // "13.0"
  std::string cuda_driver;   // "13.0", or "none" without a driver
  std::string nvrtc;
  std::string cublaslt;
};

LibraryVersions library_versions();

// 0 when there is no device or no driver; never throws.
int device_count();
// Why device_count() is 0 ("no CUDA driver found", ...), empty when a device exists.
std::string no_device_reason();

DeviceInfo device_info(int index);
DeviceInfo current_device_info();
// The same, read once per device and process (cudaGetDeviceProperties costs far more than a
// launch): for hot paths such as the GEMM's SM count and architecture check.
const DeviceInfo& current_device_info_cached();

// Throws fp8kit::Error(kEnvironment) when `what` cannot run here: no GPU, or (require_sm90)
// a GPU that is not Hopper sm_90.
void require_device(std::string_view what);
void require_sm90(std::string_view what);

}  // namespace fp8kit::cuda
