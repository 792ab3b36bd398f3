// The sm90 FP8 GEMM's epilogue (sm90_fp8_gemm.cuh): (acc · sa) · sb + bias of one consumer
// warpgroup's rows into swizzled staging boxes (stmatrix for 16-bit outputs), then TMA stores
// (clipped at D's edges) that run on while the warpgroup starts its next tile; kStorePasses = 2
// reuses a half-size buffer.
#pragma once

#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/stmatrix.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>

namespace fp8kit::sm90_gemm {

template <class L, int kModeA, int kModeB, int kOut>
struct EpilogueStore {
  static constexpr int kRows = L::kRows, kBoxBytes = L::kBoxBytes, kPassBoxes = L::kPassBoxes;
  static constexpr int kSlices = L::kSlices, kAcc = L::kBN / 2, kOutBytes = L::kOutBytes;
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

  // Per-column terms of this thread's two columns of one 8-column group: (acc · sa) · mul + add.
  struct ColumnTerms {
    float mul[2], add[2];
  };

  template <bool kBias>
  __device__ __forceinline__ ColumnTerms column_terms(int col) const {
    const float sb_tensor = kModeB == kGemmScaleBTensor ? p.scale_b[0] : 1.0f;
    ColumnTerms c{{sb_tensor, sb_tensor}, {0.0f, 0.0f}};  // add is read only with a bias
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      if constexpr (kModeB == kGemmScaleBChannel) c.mul[e] = col < p.n ? p.scale_b[col + e] : 0.0f;
      if constexpr (kBias) c.add[e] = col < p.n ? load_bias(p.bias, p.bias_dtype, col + e) : 0.0f;
    }
    return c;
  }

  template <bool kBias>
  static __device__ __forceinline__ float output_value(float acc, float sa, const ColumnTerms& c, int e) {
    float v = acc * sa * c.mul[e];
    if constexpr (kBias) v += c.add[e];  // not `+ 0.0f` without a bias: that is no identity for -0
    return v;
  }

  // The row factor sa of this thread's accumulator rows (per token or per tensor; the factors of
  // 128-wide scales were applied in the promotion: 1 here).
  __device__ __forceinline__ void row_factors(float (&sa)[kSlices][2], int row0) const {
#pragma unroll
    for (int sl = 0; sl < kSlices; ++sl)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = row0 + sl * 64 + frag_row + 8 * half;
        if constexpr (kModeA == kGemmScaleAToken) {
          sa[sl][half] = row < p.m ? p.scale_a[row] : 0.0f;
        } else {
          sa[sl][half] = kModeA == kGemmScaleATensor ? p.scale_a[0] : 1.0f;
        }
      }
  }

  // Which box, and which store pass, the 8-column group j falls in.
  static constexpr int kGroupBytes = 8 * kOutBytes;
  __host__ __device__ static constexpr int box_of(int j) { return j * kGroupBytes / kBoxBytes; }

  // Byte offset of row r's chunk at byte x of its box: chunks of 16 bytes XORed with the row's
  // swizzle phase, as the TMA store reads them.
  static __device__ __forceinline__ u32 swizzle_of_row(int r) {
    return (static_cast<u32>(r * kBoxBytes) >> 7 & kSwizzleMask) << 4;
  }

  // 16-bit outputs: stmatrix writes a 16 x 16 block (two 8-column groups, both row halves) of one
  // slice per instruction. Lane l addresses row (l / 8) % 2 * 8 + l % 8 of its warp's 16 and the
  // group l / 16 of the pair; its swizzle phase is the same for every slice (slices are 64 rows).
  template <bool kBias>
  __device__ __forceinline__ void stage_pass_16bit(const float (&acc)[kSlices][kAcc], const float (&sa)[kSlices][2],
                                                   int n0, int pass) const {
    const int lane = static_cast<int>(threadIdx.x) % 32;
    const int r_lane = ptx::warp_index_in_warpgroup() * 16 + (lane / 8) % 2 * 8 + lane % 8;
    const u32 lane_xor = swizzle_of_row(r_lane) ^ static_cast<u32>(lane / 16 * kGroupBytes);
#pragma unroll
    for (int j = 0; j < kAcc / 4; j += 2) {
      if (box_of(j) / kPassBoxes != pass) continue;  // compile-time once unrolled
      const ColumnTerms c[2] = {column_terms<kBias>(n0 + j * 8 + frag_col), column_terms<kBias>(n0 + j * 8 + 8 + frag_col)};
      u8* box = staged + box_of(j) % kPassBoxes * (kRows * kBoxBytes);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) {
        u32 packed[4];  // tiles (group j, rows 0-7), (j, 8-15), (j + 1, 0-7), (j + 1, 8-15)
#pragma unroll
        for (int tile = 0; tile < 4; ++tile) {
          const int g = tile / 2, half = tile % 2;
          const float* v = &acc[sl][(j + g) * 4 + half * 2];
          const float lo = output_value<kBias>(v[0], sa[sl][half], c[g], 0);
          const float hi = output_value<kBias>(v[1], sa[sl][half], c[g], 1);
          packed[tile] = kOut == kGemmOutF16 ? f16_bits_from_float(lo) | u32{f16_bits_from_float(hi)} << 16
                                             : bf16_bits_from_float(lo) | u32{bf16_bits_from_float(hi)} << 16;
        }
        const u32 x = static_cast<u32>(j * kGroupBytes % kBoxBytes) ^ lane_xor;
        ptx::stmatrix_x4(box + (sl * 64 + r_lane) * kBoxBytes + x, packed[0], packed[1], packed[2], packed[3]);
      }
    }
  }

  // fp32 outputs: one 64-bit store per row and 8-column group.
  template <bool kBias>
  __device__ __forceinline__ void stage_pass_32bit(const float (&acc)[kSlices][kAcc], const float (&sa)[kSlices][2],
                                                   int n0, int pass) const {
#pragma unroll
    for (int j = 0; j < kAcc / 4; ++j) {
      if (box_of(j) / kPassBoxes != pass) continue;  // compile-time once unrolled
      const ColumnTerms c = column_terms<kBias>(n0 + j * 8 + frag_col);
      u8* box = staged + box_of(j) % kPassBoxes * (kRows * kBoxBytes);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int r = sl * 64 + frag_row + 8 * half;  // warpgroup-relative row
          const float* v = &acc[sl][j * 4 + half * 2];
          const float lo = output_value<kBias>(v[0], sa[sl][half], c, 0);
          const float hi = output_value<kBias>(v[1], sa[sl][half], c, 1);
          const u32 x = static_cast<u32>(j * kGroupBytes % kBoxBytes + frag_col * kOutBytes) ^ swizzle_of_row(r);
          *reinterpret_cast<u64*>(box + r * kBoxBytes + x) = __float_as_uint(lo) | u64{__float_as_uint(hi)} << 32;
        }
    }
  }

  template <bool kBias>
  __device__ __forceinline__ void write(const float (&acc)[kSlices][kAcc], const TileCoord& t) const {
    const int row0 = t.m_tile * L::kBM + wg * kRows;
    const int store_row0 = row0 + t.split * p.split_rows;  // split-K: the split's slab of the workspace
    const int n0 = t.n_tile * L::kBN;
    float sa[kSlices][2];
    row_factors(sa, row0);
#pragma unroll
    for (int pass = 0; pass < L::kPasses; ++pass) {
      // The previous stores must have read the boxes before they are rewritten.
      if (wg_thread == 0) ptx::tma_store_wait_read<0>();
      ptx::named_barrier_sync(1 + wg, ptx::kWarpgroupThreads);
      if (L::warp_holds_rows(ptx::warp_index_in_warpgroup())) {  // a 16- or 32-row tile: its warps
        if constexpr (kOut == kGemmOutF32) {
          stage_pass_32bit<kBias>(acc, sa, n0, pass);
        } else {
          stage_pass_16bit<kBias>(acc, sa, n0, pass);
        }
      }
      ptx::fence_proxy_async_shared();
      ptx::named_barrier_sync(1 + wg, ptx::kWarpgroupThreads);
      if (wg_thread == 0 && row0 < p.m) {
#pragma unroll
        for (int box = pass * kPassBoxes; box < (pass + 1) * kPassBoxes; ++box) {
          const int col0 = n0 + box * (kBoxBytes / kOutBytes);
          if (col0 < p.n) {
            ptx::tma_store_2d(&p.map_d, staged + (box % kPassBoxes) * kRows * kBoxBytes, col0, store_row0);
          }
        }
        ptx::tma_store_commit_group();
      }
    }
  }

  // The bias test is made once per tile, so the common bias-free epilogue has no per-element
  // branches (a per-element test made the epilogue ~2600 instructions and set the pace on short K).
  __device__ __forceinline__ void tile(const float (&acc)[kSlices][kAcc], const TileCoord& t) const {
    if (p.bias_dtype == kGemmBiasNone) {
      write<false>(acc, t);
    } else {
      write<true>(acc, t);
    }
  }

  // The staging boxes must stay until the last stores have read them.
  __device__ __forceinline__ void finish() const {
    if (wg_thread == 0) ptx::tma_store_wait_all<0>();
  }
};

}  // namespace fp8kit::sm90_gemm
