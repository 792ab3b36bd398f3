// The driver's CUtensorMap as the kernels see it: opaque, same size and alignment, no toolkit
// header. Host-clean, so host code that fills a params struct holding one includes this too.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

// Pass it to the kernel by value as a `const __grid_constant__` parameter (or inside one) and hand
// its address to the TMA wrappers (fp8kit/ptx/tma.cuh).
struct alignas(64) CUtensorMapOpaque {
  u64 opaque[16];
};
static_assert(sizeof(CUtensorMapOpaque) == 128, "CUtensorMap is 128 bytes");

}  // namespace fp8kit
