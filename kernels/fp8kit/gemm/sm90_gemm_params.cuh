// The sm90 FP8 GEMM's kernel parameter (sm90_fp8_gemm.cuh). Host-clean: src/ops/sm90_fp8_gemm.cpp
// includes this same header to fill it, so the two sides cannot drift apart.
#pragma once

#include <fp8kit/common/tensor_map.cuh>
#include <fp8kit/common/types.cuh>

namespace fp8kit {

struct Sm90GemmParams {
  CUtensorMapOpaque map_a;  // A (M, K) e4m3, box (kBlockM / kClusterN, 128), 128B swizzle
  CUtensorMapOpaque map_b;  // B (N, K) e4m3, box (kBlockN / kClusterM, 128), 128B swizzle
  CUtensorMapOpaque map_sa;  // group128 A scales: (K / 128, M) fp32, row stride round_up(M, 4), box (1, kBlockM)
  CUtensorMapOpaque map_d;   // D (M, N) out, box (kBlockM / warpgroups, box bytes), swizzle = box bytes
  const float* scale_a;  // tensor: 1 value; token: M values (group128 goes through map_sa)
  const float* scale_b;  // tensor: 1; channel: N; block128: (nb, kb) at nb * scale_b_ld + kb
  const void* bias;      // N values of dtype bias_dtype, or null
  void* out;             // D itself for a split cluster (Cfg::kSplitCluster), which writes without TMA
  i64 ld_out;            // D's row stride, in elements (split cluster)
  i32 m, n, k;
  i32 scale_b_ld;    // round_up(K / 128, 4)
  i32 group_size_m;  // tile rasterization: rows of cluster units per group
  i32 bias_dtype;    // GemmBias
  i32 prefetch_b;    // 1: B is not written by the previous grid (a weight), so it loads before the wait
  i32 split_rows;    // split-K (Cfg::kSplitK > 1; map_d is then the fp32 workspace of its slabs): rows
                     // per slab, M rounded up to block_m (a ragged tile's rows stay in it)
};

}  // namespace fp8kit
