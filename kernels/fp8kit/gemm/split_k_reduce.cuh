// Split-K's second step (sm90_fp8_gemm.cuh stores each split's fp32 partial tile into a slab of
// the workspace): out = the slabs summed in split order, so the same inputs give the same bits on
// every run, + bias, rounded once to the out dtype. Four columns per thread (N % 16 == 0).
#pragma once

#include <fp8kit/common/pdl.cuh>
#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/split_k_params.cuh>

namespace fp8kit {

template <int kOut>
__device__ __forceinline__ void split_k_reduce(const SplitKReduceParams& p) {
  wait_prior_grid_and_release_next();
  const i64 quads_per_row = p.n / 4;
  const i64 quads = static_cast<i64>(p.m) * quads_per_row;
  constexpr int kLoadsInFlight = 8;
  const i64 slab = static_cast<i64>(p.split_rows) * p.n;
  for (i64 q = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; q < quads;
       q += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 row = q / quads_per_row;
    const int col = static_cast<int>(q % quads_per_row) * 4;
    const float* part = p.partials + row * p.n + col;
    float4 acc = *reinterpret_cast<const float4*>(part);
    // kLoadsInFlight slabs are read before any is added: a loop of load-then-add waits one L2
    // round trip per split (a two-point fit of split 4 and 7 at 576 x 7168, M = 64, H200
    // 2026-12-04, put ~0.6 us on each split; this loop is not timed on its own yet).
    for (int s0 = 1; s0 < p.split_k; s0 += kLoadsInFlight) {
      float4 v[kLoadsInFlight];
#pragma unroll
      for (int j = 0; j < kLoadsInFlight; ++j) {
        if (s0 + j < p.split_k) v[j] = *reinterpret_cast<const float4*>(part + (s0 + j) * slab);
      }
#pragma unroll
      for (int j = 0; j < kLoadsInFlight; ++j) {  // in split order: the same bits on every run
        if (s0 + j < p.split_k) {
          acc.x += v[j].x;
          acc.y += v[j].y;
          acc.z += v[j].z;
          acc.w += v[j].w;
        }
      }
    }
    finish_quad<kOut>(acc, p.bias, p.bias_dtype, col, p.out, row * p.ld_out + col);
  }
}

}  // namespace fp8kit
