// The ops' device-pointer check and its per-thread memory (ops/device_pointers.hpp): device memory
// is remembered per device, host memory never is, so a host pointer is refused on every call.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/types.hpp"
#include "ops/device_pointers.hpp"

namespace fp8kit {
namespace {

bool refused(const void* p, int device, const char* says) {
  try {
    ops::check_device_pointer_remembered(p, "x", device, "test");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    return true;
  }
  return false;
}

TEST(DevicePointersGpu, RemembersDeviceMemoryPerDeviceAndNeverHostMemory) {
  int device = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  cuda::DeviceBuffer d(256);
  EXPECT_NO_THROW(ops::check_device_pointer_remembered(d.data(), "x", device, "test"));
  EXPECT_NO_THROW(ops::check_device_pointer_remembered(d.data(), "x", device, "test"));  // remembered
  // Remembered for its own device only: asked as another device's, it is queried and refused.
  EXPECT_TRUE(refused(d.data(), device + 1, "lives on device"));
  std::vector<char> host(256);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(refused(host.data(), device, "must be device memory")) << i;
}

}  // namespace
}  // namespace fp8kit
