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
// kTiled: each block copies kUnroll * blockDim consecutive vectors per step (DRAM-page locality);
// otherwise the kUnroll loads of a thread lie a whole grid apart.
template <int kUnroll, bool kTiled>
__device__ __forceinline__ void copy_vectors(const CopyParams& p) {
  const u64 threads = static_cast<u64>(gridDim.x) * blockDim.x;
  const u64 lane_step = kTiled ? blockDim.x : threads;
  u64 i = kTiled ? static_cast<u64>(blockIdx.x) * blockDim.x * kUnroll + threadIdx.x
                 : static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x;
  const u64 step = threads * kUnroll;
  const u64 full = p.vectors - p.vectors % step;  // whole steps: every index in them is valid
  for (; i < full; i += step) {
    Vec16 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = p.src[i + u * lane_step];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) p.dst[i + u * lane_step] = v[u];
  }
  // The ragged end: whatever the unrolled steps left, one vector per thread at a time.
  for (u64 j = full + static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x; j < p.vectors; j += threads) {
    p.dst[j] = p.src[j];
  }
}

}  // namespace fp8kit
