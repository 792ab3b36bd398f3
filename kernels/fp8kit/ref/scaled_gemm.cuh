// The reference scaled GEMM on CUDA cores (DESIGN.md §3): D = A · Bᵀ with A (M, K) and B (N, K)
// E4M3, fp32 arithmetic, one output per thread. It is the oracle for shapes too large for the CPU
// reference, so it follows the same definition and nothing cleverer:
//   - group128 / block128 modes ("promotion"): each 128-wide K slice is accumulated in fp32, then
//     total += (sa(m, kb) · sb(n, kb)) · partial;
//   - per-tensor / token / channel modes: one fp32 accumulator over all of K, then
//     total = (acc · sa(m)) · sb(n) in the epilogue;
//   - then + bias(n) in fp32 and one RNE conversion to the output dtype.
// Products are summed in ascending K order. Tiles of A and B pass through shared memory so that
// the kernel reads each input byte from global memory about M/16 or N/16 times, not M or N times.
#pragma once

#include <fp8kit/common/fp8.cuh>
#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/scale_modes.cuh>

namespace fp8kit {

struct RefGemmParams {
  const u8* a;            // (M, K), row stride lda
  const u8* b;            // (N, K), row stride ldb
  const float* scale_a;   // tensor: 1; token: M; group128: element (m, kb) at kb * scale_a_ld + m
  const float* scale_b;   // tensor: 1; channel: N; block128: element (nb, kb) at nb * scale_b_ld + kb
  void* out;              // (M, N), row stride ldd, dtype kOut
  const void* bias;       // N values of dtype bias_dtype, or null
  i64 m, n, k;
  i64 lda, ldb, ldd;
  i64 scale_a_ld;         // round_up(M, 4)
  i64 scale_b_ld;         // round_up(K / 128, 4)
  int bias_dtype;         // GemmBias
};

constexpr int kRefTile = 16;   // outputs per block: (kRefTile, kRefTile), one per thread
constexpr int kRefSlice = 128; // K width of a group128/block128 scale

template <int kModeA, int kModeB, int kOut>
__device__ __forceinline__ void ref_scaled_gemm(const RefGemmParams& p) {
  static_assert(kModeA >= 0 && kModeA <= 2 && kModeB >= 0 && kModeB <= 2, "unknown scale mode");
  constexpr bool kPromote = kModeA == kGemmScaleAGroup128 || kModeB == kGemmScaleBBlock128;
  // Decoded tiles; +1 column so that reading a column of b_tile hits 16 different banks.
  __shared__ float a_tile[kRefTile][kRefTile + 1];  // (rows of A, K chunk)
  __shared__ float b_tile[kRefTile][kRefTile + 1];  // (rows of B, K chunk)

  const int tx = static_cast<int>(threadIdx.x);  // along N: consecutive threads store consecutive n
  const int ty = static_cast<int>(threadIdx.y);  // along M
  const i64 m0 = static_cast<i64>(blockIdx.y) * kRefTile;
  const i64 n0 = static_cast<i64>(blockIdx.x) * kRefTile;
  const i64 m = m0 + ty;
  const i64 n = n0 + tx;

  float partial = 0.0f;  // the current 128-wide slice (promoted modes) or all of K
  float total = 0.0f;
  for (i64 k0 = 0; k0 < p.k; k0 += kRefTile) {
    // Thread (ty, tx) loads element (row ty, column k0 + tx) of each tile; K % 16 == 0 always.
    const i64 a_row = m0 + ty, b_row = n0 + ty;
    a_tile[ty][tx] = a_row < p.m ? e4m3_to_float(p.a[a_row * p.lda + k0 + tx]) : 0.0f;
    b_tile[ty][tx] = b_row < p.n ? e4m3_to_float(p.b[b_row * p.ldb + k0 + tx]) : 0.0f;
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kRefTile; ++kk) partial = fmaf(a_tile[ty][kk], b_tile[tx][kk], partial);
    __syncthreads();
    if constexpr (kPromote) {
      if ((k0 + kRefTile) % kRefSlice == 0 && m < p.m && n < p.n) {
        const i64 kb = k0 / kRefSlice;
        float sa, sb;
        if constexpr (kModeA == kGemmScaleATensor) sa = p.scale_a[0];
        else if constexpr (kModeA == kGemmScaleAToken) sa = p.scale_a[m];
        else sa = p.scale_a[kb * p.scale_a_ld + m];
        if constexpr (kModeB == kGemmScaleBTensor) sb = p.scale_b[0];
        else if constexpr (kModeB == kGemmScaleBChannel) sb = p.scale_b[n];
        else sb = p.scale_b[(n / kRefSlice) * p.scale_b_ld + kb];
        total = fmaf(sa * sb, partial, total);
        partial = 0.0f;
      }
    }
  }
  if (m >= p.m || n >= p.n) return;
  if constexpr (!kPromote) {
    const float sa = kModeA == kGemmScaleATensor ? p.scale_a[0] : p.scale_a[m];
    const float sb = kModeB == kGemmScaleBTensor ? p.scale_b[0] : p.scale_b[n];
    total = partial * sa * sb;
  }
  if (p.bias_dtype != kGemmBiasNone) total += load_bias(p.bias, p.bias_dtype, n);
  store_out<kOut>(p.out, m * p.ldd + n, total);
}

}  // namespace fp8kit
