#include "cuda/device.hpp"

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <nvrtc.h>

#include <map>
#include <mutex>

#include <fmt/format.h>

#include "cuda/check.hpp"

namespace fp8kit::cuda {
namespace {

std::string cuda_version_string(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

std::string format_uuid(const cudaUUID_t& uuid) {
  const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
  return fmt::format("GPU-{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                     b[13], b[14], b[15]);
}

cudaError_t query_device_count(int* count) {
  *count = 0;
  const cudaError_t status = cudaGetDeviceCount(count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    *count = 0;
  }
  return status;
}

}  // namespace

std::string DeviceInfo::compute_capability() const { return fmt::format("{}.{}", cc_major, cc_minor); }

LibraryVersions library_versions() {
  LibraryVersions v;
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  v.cuda_runtime = cuda_version_string(runtime);
  int driver = 0;
  v.cuda_driver = (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0) ? cuda_version_string(driver) : "none";
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  v.nvrtc = fmt::format("{}.{}", major, minor);
  const std::size_t lt = cublasLtGetVersion();  // major*10000 + minor*100 + patch
  v.cublaslt = fmt::format("{}.{}.{}", lt / 10000, (lt / 100) % 100, lt % 100);
  return v;
}

int device_count() {
  int count = 0;
  query_device_count(&count);
  return count;
}

std::string no_device_reason() {
  int count = 0;
  const cudaError_t status = query_device_count(&count);
  if (status == cudaSuccess && count > 0) return "";
  if (status == cudaSuccess || status == cudaErrorNoDevice) return "no CUDA device found";
  if (status == cudaErrorInsufficientDriver) return "no CUDA driver found (or it is older than the runtime)";
  return fmt::format("CUDA is unavailable: {} ({})", cudaGetErrorName(status), cudaGetErrorString(status));
}

DeviceInfo device_info(int index) {
  cudaDeviceProp prop{};
  FP8KIT_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  DeviceInfo info;
  info.index = index;
  info.name = prop.name;
  info.uuid = format_uuid(prop.uuid);
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.global_memory_bytes = prop.totalGlobalMem;
  info.l2_bytes = static_cast<std::size_t>(prop.l2CacheSize);
  info.smem_per_block_optin = prop.sharedMemPerBlockOptin;
  info.memory_bus_width_bits = prop.memoryBusWidth;
  return info;
}

DeviceInfo current_device_info() {
  require_device("reading device properties");
  int index = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&index));
  return device_info(index);
}

void require_device(std::string_view what) {
  const std::string reason = no_device_reason();
  if (!reason.empty()) throw_environment(fmt::format("{} needs a CUDA GPU: {}", what, reason));
}

const DeviceInfo& current_device_info_cached() {
  static std::mutex mutex;
  static std::map<int, DeviceInfo> known;
  require_device("reading device properties");
  int index = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&index));
  std::lock_guard lock(mutex);
  auto it = known.find(index);
  if (it == known.end()) it = known.emplace(index, device_info(index)).first;
  return it->second;  // map nodes are stable
}

void require_sm90(std::string_view what) {
  const DeviceInfo& info = current_device_info_cached();
  if (info.cc_major != 9 || info.cc_minor != 0) {
    throw_environment(fmt::format("{} needs a Hopper GPU (compute capability 9.0); {} is {}", what,
                                  info.name, info.compute_capability()));
  }
}

}  // namespace fp8kit::cuda
