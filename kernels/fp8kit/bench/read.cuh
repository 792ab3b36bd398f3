// A read of `vectors` 16-byte vectors with nothing written but one word a block: the floor of a
// memory-bound call of that many bytes at that size (`bench gemm --timing cold` times it beside
// each GEMM, launched the same way). Each block writes the XOR of the words it read, so the host
// checks that every vector was read, and no load can be left out.
#pragma once

#include <fp8kit/bench/read_params.cuh>
#include <fp8kit/common/pdl.cuh>

namespace fp8kit {

__device__ __forceinline__ u32 xor_words(const Vec16& v) { return v.w[0] ^ v.w[1] ^ v.w[2] ^ v.w[3]; }

// Launched programmatically, as the GEMM: it waits for the previous grid before its first load.
// Each block reads kUnroll * blockDim consecutive vectors per step, the kUnroll loads of a thread
// in flight before the first is used; loads past the end are predicated off, so a read smaller
// than a step (most decode sizes) is still issued at once.
template <int kUnroll>
__device__ __forceinline__ void read_vectors(const ReadParams& p) {
  wait_prior_grid_and_release_next();
  const u64 step = static_cast<u64>(gridDim.x) * blockDim.x * kUnroll;
  u32 x = 0;
  for (u64 i = static_cast<u64>(blockIdx.x) * blockDim.x * kUnroll + threadIdx.x; i < p.vectors; i += step) {
    Vec16 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const u64 j = i + static_cast<u64>(u) * blockDim.x;
      v[u] = j < p.vectors ? p.src[j] : Vec16{};
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) x ^= xor_words(v[u]);
  }
  for (int offset = 16; offset > 0; offset /= 2) x ^= __shfl_xor_sync(0xffffffffu, x, offset);
  __shared__ u32 block_x;
  if (threadIdx.x == 0) block_x = 0;
  __syncthreads();
  if (threadIdx.x % 32 == 0) atomicXor(&block_x, x);
  __syncthreads();
  if (threadIdx.x == 0) p.block_xor[blockIdx.x] = block_x;
}

}  // namespace fp8kit
