// The GPU suite: exits 77 (ctest SKIP) on a machine without a usable GPU.
#include <gtest/gtest.h>

#include <cstdio>

#include "cuda/device.hpp"
#include "jit/options.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string reason = fp8kit::cuda::no_device_reason();
  if (!reason.empty()) {
    std::printf("fp8kit GPU suite skipped: %s\n", reason.c_str());
    return 77;
  }
  fp8kit::jit::global_options().fail_on_spill = true;  // DESIGN.md §4: on in every test
  const fp8kit::cuda::DeviceInfo d = fp8kit::cuda::current_device_info();
  std::printf("fp8kit GPU suite on %s (compute capability %s, %d SMs)\n", d.name.c_str(), d.compute_capability().c_str(),
              d.sm_count);
  return RUN_ALL_TESTS();
}
