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
  const i64 slab = static_cast<i64>(p.split_rows) * p.n;
  for (i64 q = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; q < quads;
       q += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 row = q / quads_per_row;
    const int col = static_cast<int>(q % quads_per_row) * 4;
    const float4* part = reinterpret_cast<const float4*>(p.partials + row * p.n + col);
    float4 acc = part[0];
    for (int s = 1; s < p.split_k; ++s) {
      const float4 v = *reinterpret_cast<const float4*>(p.partials + s * slab + row * p.n + col);
      acc.x += v.x;
      acc.y += v.y;
      acc.z += v.z;
      acc.w += v.w;
    }
    if (p.bias_dtype != kGemmBiasNone) {  // not `+ 0.0f` without a bias: that is no identity for -0
      acc.x += load_bias(p.bias, p.bias_dtype, col);
      acc.y += load_bias(p.bias, p.bias_dtype, col + 1);
      acc.z += load_bias(p.bias, p.bias_dtype, col + 2);
      acc.w += load_bias(p.bias, p.bias_dtype, col + 3);
    }
    const i64 at = row * p.ld_out + col;
    if constexpr (kOut == kGemmOutF32) {
      *reinterpret_cast<float4*>(static_cast<float*>(p.out) + at) = acc;
    } else {
      const auto bits = [](float x) { return kOut == kGemmOutBF16 ? bf16_bits_from_float(x) : f16_bits_from_float(x); };
      const u64 packed = u64{bits(acc.x)} | u64{bits(acc.y)} << 16 | u64{bits(acc.z)} << 32 | u64{bits(acc.w)} << 48;
      *reinterpret_cast<u64*>(static_cast<u16*>(p.out) + at) = packed;
    }
  }
}

}  // namespace fp8kit
