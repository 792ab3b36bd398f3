// Device-to-device copy with 16-byte accesses: the measured memory ceiling that benchmarks
// report against (`fp8kit info --measure`).
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

struct CopyParams {
  const Vec16* src;
  Vec16* dst;
  u64 vectors;  // number of 16-byte vectors
};

// Grid-stride loop unrolled kUnroll deep so several loads are in flight before the first store.
template <int kUnroll>
__device__ __forceinline__ void copy_vectors(const CopyParams& p) {
  const u64 stride = static_cast<u64>(gridDim.x) * blockDim.x;
  u64 i = static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + (kUnroll - 1) * stride < p.vectors; i += kUnroll * stride) {
    Vec16 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = p.src[i + u * stride];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) p.dst[i + u * stride] = v[u];
  }
  for (; i < p.vectors; i += stride) p.dst[i] = p.src[i];
}

}  // namespace fp8kit
