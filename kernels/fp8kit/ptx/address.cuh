// Shared-memory addresses as PTX's .shared instructions take them (32-bit offsets in the CTA's
// shared window). Used by every other wrapper in fp8kit/ptx/.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit::ptx {

__device__ __forceinline__ u32 smem_u32(const void* p) {
  return static_cast<u32>(__cvta_generic_to_shared(p));
}

}  // namespace fp8kit::ptx
