#include "ops/device_pointers.hpp"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_set>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::ops {

void check_device_pointer(const void* p, const char* arg, int device, const char* what) {
  cudaPointerAttributes a{};
  const cudaError_t status = cudaPointerGetAttributes(&a, p);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // the query leaves a non-sticky error behind
    FP8KIT_CUDA_CHECK(status);
  }
  if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged) {
    throw_invalid_argument(
        fmt::format("{}: {} must be device memory, got a host or unregistered pointer {}", what, arg, p));
  }
  if (a.type == cudaMemoryTypeDevice && a.device != device) {
    throw_invalid_argument(
        fmt::format("{}: {} = {} lives on device {}, but the current device is {}", what, arg, p, a.device, device));
  }
}

namespace {
struct PointerOnDevice {
  std::uintptr_t address;
  int device;
  bool operator==(const PointerOnDevice&) const = default;
};
struct PointerOnDeviceHash {
  std::size_t operator()(const PointerOnDevice& k) const noexcept {
    return std::hash<std::uintptr_t>{}(k.address) ^ (static_cast<std::size_t>(k.device) << 48);
  }
};
}  // namespace

void check_device_pointer_remembered(const void* p, const char* arg, int device, const char* what) {
  thread_local std::unordered_set<PointerOnDevice, PointerOnDeviceHash> known;
  const PointerOnDevice key{reinterpret_cast<std::uintptr_t>(p), device};
  if (p != nullptr && known.contains(key)) return;
  check_device_pointer(p, arg, device, what);
  if (known.size() >= static_cast<std::size_t>(kRememberedDevicePointers)) known.clear();
  known.insert(key);
}

}  // namespace fp8kit::ops
