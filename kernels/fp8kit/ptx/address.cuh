// Shared-memory addresses as PTX's .shared instructions take them (32-bit offsets in the CTA's
// shared window). Used by every other wrapper in fp8kit/ptx/, which also take such addresses
// directly (u32 overloads) for kernels that compute them from smem_u32_base.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit::ptx {

__device__ __forceinline__ u32 smem_u32(const void* p) {
  return static_cast<u32>(__cvta_generic_to_shared(p));
}

// The 32-bit shared address of a kernel's shared-memory base, opaque to the compiler, so that
// addresses computed from it stay 32-bit. NVRTC's front end computes shared addresses in 64 bits
// (nvcc's in 32: `mov.u32 %r, smem`): from the 64-bit form ptxas kept the GEMM's barrier
// addresses and wgmma descriptors in ordinary registers, moving them to uniform ones before
// every wgmma (m128n96 s6: 67 R2UR and 560 instructions a lap of the ring, nvcc 0 and 495).
__device__ __forceinline__ u32 smem_u32_base(const void* base) {
  u32 addr;
  asm("mov.b32 %0, %1;" : "=r"(addr) : "r"(smem_u32(base)));
  return addr;
}

}  // namespace fp8kit::ptx
