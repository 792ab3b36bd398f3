// The sm90 FP8 GEMM's epilogue (sm90_fp8_gemm.cuh): (acc · sa) · sb + bias of one consumer
// warpgroup's rows into swizzled staging boxes, then TMA stores (clipped at D's edges) that run on
// while the warpgroup starts its next tile; kStorePasses = 2 reuses a half-size buffer.
#pragma once

#include <fp8kit/gemm/epilogue_store.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>

namespace fp8kit::sm90_gemm {

template <class L, int kModeA, int kModeB, int kOut>
struct EpilogueStore {
  static constexpr int kRows = L::kRows, kBoxBytes = L::kBoxBytes, kPassBoxes = L::kPassBoxes;
  static constexpr int kSlices = kRows / 64, kAcc = L::kBN / 2, kOutBytes = L::kOutBytes;
  static constexpr u32 kSwizzleMask = kBoxBytes / 16 - 1;  // 16-byte chunks XORed with bits 7.. of the offset

  const Sm90GemmParams& p;
  u8* staged;  // this warpgroup's boxes: (kRows, kBoxBytes, kPassBoxes)
  int wg, wg_thread, frag_row, frag_col;

  __device__ EpilogueStore(const Sm90GemmParams& params, u8* tile_d, int warpgroup)
      : p(params),
        staged(tile_d + warpgroup * kRows * L::kRowBytes / L::kPasses),
        wg(warpgroup),
        wg_thread(ptx::thread_index_in_warpgroup()),
        // Accumulator fragment of wgmma m64nN (fp32): register i of a thread holds row
        // warp * 16 + lane / 4 + 8 * ((i / 2) % 2) and column (i / 4) * 8 + (lane % 4) * 2 + i % 2.
        frag_row(ptx::warp_index_in_warpgroup() * 16 + static_cast<int>(threadIdx.x) % 32 / 4),
        frag_col(static_cast<int>(threadIdx.x) % 4 * 2) {}

  __device__ __forceinline__ void tile(float (&acc)[kSlices][kAcc], const TileCoord& t) const {
    const float sa_tensor = kModeA == kGemmScaleATensor ? p.scale_a[0] : 1.0f;
    const float sb_tensor = kModeB == kGemmScaleBTensor ? p.scale_b[0] : 1.0f;
    const int row0 = t.m_tile * L::kBM + wg * kRows;
    const int n0 = t.n_tile * L::kBN;
#pragma unroll
    for (int pass = 0; pass < L::kPasses; ++pass) {
      // The previous stores must have read the boxes before they are rewritten.
      if (wg_thread == 0) ptx::tma_store_wait_read<0>();
      ptx::named_barrier_sync(1 + wg, ptx::kWarpgroupThreads);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int r = sl * 64 + frag_row + 8 * half;  // warpgroup-relative row
          const int row = row0 + r;
          // Byte (r, x) of a box sits at r * kBoxBytes + (x ^ swizzle(r)); x = a compile-time part
          // per 8-column group (a multiple of 16) plus this lane's (< 16 for 2-byte, < 32 for
          // 4-byte outputs, never crossing a box), with disjoint bits: one XOR per store.
          u8* row_base = staged + r * kBoxBytes;
          const u32 lane_xor = ((static_cast<u32>(r * kBoxBytes) >> 7 & kSwizzleMask) << 4) ^ (frag_col * kOutBytes);
          const float sa = kModeA == kGemmScaleAToken ? (row < p.m ? p.scale_a[row] : 0.0f) : sa_tensor;
#pragma unroll
          for (int j = 0; j < kAcc / 4; ++j) {
            constexpr int kGroupBytes = 8 * kOutBytes;
            const int box = j * kGroupBytes / kBoxBytes;
            if (box / kPassBoxes != pass) continue;  // compile-time once unrolled
            const int col = n0 + j * 8 + frag_col;
            float v[2] = {acc[sl][j * 4 + half * 2], acc[sl][j * 4 + half * 2 + 1]};
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              // Factors of 128-wide scales were applied in the promotion: theirs are 1 here.
              const float sb = kModeB == kGemmScaleBChannel ? (col < p.n ? p.scale_b[col + e] : 0.0f) : sb_tensor;
              v[e] = v[e] * sa * sb;
              if (p.bias_dtype != kGemmBiasNone && col < p.n) v[e] += load_bias(p.bias, p.bias_dtype, col + e);
            }
            u8* dst = row_base + (box % kPassBoxes) * (kRows * kBoxBytes) + ((j * kGroupBytes % kBoxBytes) ^ lane_xor);
            if constexpr (kOut == kGemmOutF32) {
              *reinterpret_cast<u64*>(dst) = __float_as_uint(v[0]) | (static_cast<u64>(__float_as_uint(v[1])) << 32);
            } else {
              const u32 lo = kOut == kGemmOutF16 ? f16_bits_from_float(v[0]) : bf16_bits_from_float(v[0]);
              const u32 hi = kOut == kGemmOutF16 ? f16_bits_from_float(v[1]) : bf16_bits_from_float(v[1]);
              *reinterpret_cast<u32*>(dst) = lo | (hi << 16);
            }
          }
        }
      }
      ptx::fence_proxy_async_shared();
      ptx::named_barrier_sync(1 + wg, ptx::kWarpgroupThreads);
      if (wg_thread == 0 && row0 < p.m) {
#pragma unroll
        for (int box = pass * kPassBoxes; box < (pass + 1) * kPassBoxes; ++box) {
          const int col0 = n0 + box * (kBoxBytes / kOutBytes);
          if (col0 < p.n) ptx::tma_store_2d(&p.map_d, staged + (box % kPassBoxes) * kRows * kBoxBytes, col0, row0);
        }
        ptx::tma_store_commit_group();
      }
    }
  }

  // The staging boxes must stay until the last stores have read them.
  __device__ __forceinline__ void finish() const {
    if (wg_thread == 0) ptx::tma_store_wait_all<0>();
  }
};

}  // namespace fp8kit::sm90_gemm
