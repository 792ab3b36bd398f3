// The own Hopper FP8 GEMM (issue 5, DESIGN.md §3–§4): D = A · Bᵀ with A (M, K) and B (N, K) E4M3,
// K-major, D (M, N) row-major bf16 / fp16 / fp32.
//
// Warp specialization: warpgroup 0 is the producer (one elected thread issues TMA loads of A, B and
// the group128 A scales into a kStages-deep shared-memory ring; full/empty mbarrier per stage);
// warpgroups 1..kConsumerWarpgroups are consumers, each owning kBlockM / kConsumerWarpgroups rows
// of the tile and every column. A stage is one 128-wide K block = one scale block, so:
//   - promoted modes (A group128 and/or B block128): each 64-row slice accumulates the K block in a
//     scratch accumulator (4 x wgmma m64nNk32), then acc += (sa(m, kb) · sb(nb, kb)) · scratch on
//     the CUDA cores in fp32 (the factor of a side without 128-wide scales is 1 here);
//   - unpromoted modes (tensor / token x tensor / channel): the tensor cores accumulate all of K
//     in acc, i.e. cuBLASLt's fast accumulation (the backend requires fast_accum for them).
// The epilogue multiplies by the per-tensor / per-token / per-channel factors (acc · sa) · sb, adds
// the bias and stores pairs of columns straight from the accumulator registers.
// With kClusterM = 2 the two CTAs of a cluster take vertically adjacent tiles of one N column and
// each loads half of the shared B tile, multicast into both.
//
// The host mirror of every rule here is src/core/gemm_config.cpp (validity, shared-memory layout,
// register budgets); the launcher is src/ops/fp8kit_gemm.cpp.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/epilogue_store.cuh>
#include <fp8kit/gemm/scale_modes.cuh>
#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>

namespace fp8kit {

// Mirrored by src/ops/fp8kit_gemm.cpp's Sm90GemmParams (same members, same order).
struct Sm90GemmParams {
  CUtensorMapOpaque map_a;  // A (M, K) e4m3, box (kBlockM, 128), 128B swizzle
  CUtensorMapOpaque map_b;  // B (N, K) e4m3, box (kBlockN / kClusterM, 128), 128B swizzle
  CUtensorMapOpaque map_sa;  // group128 A scales: (K / 128, M) fp32, row stride round_up(M, 4), box (1, kBlockM)
  CUtensorMapOpaque map_d;   // D (M, N) out, box (kBlockM / warpgroups, box bytes), swizzle = box bytes
  const float* scale_a;  // tensor: 1 value; token: M values (group128 goes through map_sa)
  const float* scale_b;  // tensor: 1; channel: N; block128: (nb, kb) at nb * scale_b_ld + kb
  const void* bias;      // N values of dtype bias_dtype, or null
  i32 m, n, k;
  i32 scale_b_ld;    // round_up(K / 128, 4)
  i32 group_size_m;  // tile rasterization: M tiles (of clusters) per group
  i32 bias_dtype;    // GemmBias
};

namespace sm90_gemm {

constexpr int kBlockK = 128;  // one scale block = one 128B swizzle row of e4m3
constexpr int kWgmmaK = 32;
constexpr int kScaleBlock = 128;

__host__ __device__ constexpr int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

// The tile (m_tile, n_tile) of work unit `unit` (one tile per CTA of a cluster): units walk groups
// of group_size_m cluster rows down each N column before moving right, so the units in flight
// at once share B tiles and A tiles in L2.
template <int kCluster>
__device__ __forceinline__ void tile_of_unit(int unit, int rank, int m_tiles, int n_tiles, int group_size_m,
                                             int& m_tile, int& n_tile) {
  const int m_units = m_tiles / kCluster;
  const int per_group = group_size_m * n_tiles;
  const int group = unit / per_group;
  const int first = group * group_size_m;
  const int rows = min(m_units - first, group_size_m);
  const int in_group = unit - group * per_group;
  m_tile = (first + in_group % rows) * kCluster + rank;
  n_tile = in_group / rows;
}

}  // namespace sm90_gemm

template <class Cfg, int kModeA, int kModeB, int kOut>
__device__ __forceinline__ void sm90_fp8_gemm(const Sm90GemmParams& p) {
  using namespace sm90_gemm;
  constexpr int kBM = Cfg::kBlockM, kBN = Cfg::kBlockN, kStages = Cfg::kStages;
  constexpr int kWG = Cfg::kConsumerWarpgroups, kCluster = Cfg::kClusterM;
  constexpr int kRows = kBM / kWG;     // rows per consumer warpgroup
  constexpr int kSlices = kRows / 64;  // 64-row wgmma slices per consumer warpgroup
  constexpr int kAcc = kBN / 2;        // fp32 accumulators per thread per slice
  constexpr bool kPromote = kModeA == kGemmScaleAGroup128 || kModeB == kGemmScaleBBlock128;
  // A tile never straddles two B scale blocks when its width divides 128 (tiles start at multiples of it).
  constexpr bool kOneScaleBlock = kScaleBlock % kBN == 0;
  static_assert(Cfg::kBlockK == kBlockK, "one stage is one 128-wide K block");
  static_assert(kWG == 1 || kWG == 2, "1 or 2 consumer warpgroups");
  static_assert(kRows == 64 || kRows == 128, "64 or 128 rows per consumer warpgroup");
  static_assert(kBN % 16 == 0 && kBN >= 16 && kBN <= 256, "block_n: multiple of 16 in [16, 256]");
  static_assert(kCluster == 1 || kCluster == 2, "cluster of 1 or 2 along M");
  static_assert(kModeB != kGemmScaleBBlock128 || kScaleBlock - gcd(kBN, kScaleBlock) + kBN <= 2 * kScaleBlock,
                "a tile touches at most two B scale blocks (its worst start is 128 - gcd(block_n, 128))");
  static_assert(kStages >= 2 && kStages <= 32, "2..32 stages");

  // Shared memory, in gemm_smem_layout()'s order; tile buffers are multiples of 1024 bytes. B's
  // 128x128 scales are read through L1 (two floats per K block).
  constexpr int kStageA = kBM * kBlockK;  // (kBM, 128) e4m3
  constexpr int kStageB = kBN * kBlockK;  // (kBN, 128) e4m3
  constexpr int kOutBytes = kOut == kGemmOutF32 ? 4 : 2;
  constexpr int kStageSA = kModeA == kGemmScaleAGroup128 ? kBM * 4 : 0;  // (kBM) fp32
  // Epilogue staging: each consumer warpgroup's (kRows, kBN) part as boxes of (kRows, kBoxBytes),
  // swizzled as the TMA store reads them (gemm_store_box_bytes on the host).
  constexpr int kRowBytes = kBN * kOutBytes;
  constexpr int kBoxBytes = kRowBytes % 128 == 0 ? 128 : kRowBytes % 64 == 0 ? 64 : 32;
  constexpr int kBoxes = kRowBytes / kBoxBytes;
  constexpr int kPasses = kBoxes % 2 == 0 ? 2 : 1;  // half-size staging, stored in two passes
  constexpr int kPassBoxes = kBoxes / kPasses;
  constexpr u32 kSwizzleMask = kBoxBytes / 16 - 1;  // 16-byte chunks XORed with bits 7.. of the offset
  static_assert(kRowBytes % 32 == 0, "a tile row is a whole number of 32-byte boxes");
  extern __shared__ __align__(1024) u8 smem[];
  u8* tile_a = smem;                                                         // (kBM, 128, kStages)
  u8* tile_b = tile_a + kStages * kStageA;                                   // (kBN, 128, kStages)
  u8* tile_d = tile_b + kStages * kStageB;                                   // (kBM, kBN / kPasses) out, staged
  float* scale_a_tile = reinterpret_cast<float*>(tile_d + kBM * kRowBytes / kPasses);  // (kBM, kStages)
  u64* full = reinterpret_cast<u64*>(reinterpret_cast<u8*>(scale_a_tile) + kStages * kStageSA);
  u64* empty = full + kStages;

  // Persistent: cluster c takes units c, c + clusters, ...; the ring's stage and phase run on
  // across tiles, so the producer fills the next tile's stages while the consumers store.
  const int m_tiles = (p.m + kBM - 1) / kBM;
  const int n_tiles = (p.n + kBN - 1) / kBN;
  const int units = m_tiles / kCluster * n_tiles;
  const int first_unit = static_cast<int>(blockIdx.x) / kCluster;
  const int unit_stride = static_cast<int>(gridDim.x) / kCluster;
  const int rank = static_cast<int>(blockIdx.x) % kCluster;  // == %cluster_ctarank for cluster dims (kCluster, 1, 1)
  const int k_blocks = (p.k + kBlockK - 1) / kBlockK;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      ptx::mbarrier_init(&full[s], 1);
      // Every consumer warp of every CTA of the cluster frees the stage (B lands in both CTAs).
      ptx::mbarrier_init(&empty[s], kWG * 4 * kCluster);
    }
    ptx::fence_mbarrier_init();
  }
  if constexpr (kCluster > 1) {
    ptx::cluster_sync();
  } else {
    __syncthreads();
  }

  if (ptx::warpgroup_index() == 0) {
    // ---- producer --------------------------------------------------------------------------------
    ptx::setmaxnreg_dec<Cfg::kProducerRegisters>();
    if (ptx::warp_index_in_warpgroup() == 0 && ptx::elect_one_sync()) {
      ptx::tma_prefetch_descriptor(&p.map_a);
      ptx::tma_prefetch_descriptor(&p.map_b);
      if constexpr (kModeA == kGemmScaleAGroup128) ptx::tma_prefetch_descriptor(&p.map_sa);
      int it = 0;  // ring position over all tiles of this CTA
      for (int unit = first_unit; unit < units; unit += unit_stride) {
        int m_tile, n_tile;
        tile_of_unit<kCluster>(unit, rank, m_tiles, n_tiles, p.group_size_m, m_tile, n_tile);
        for (int kb = 0; kb < k_blocks; ++kb, ++it) {
          const int s = it % kStages;
          ptx::mbarrier_wait_parity(&empty[s], ((it / kStages) & 1) ^ 1);
          ptx::mbarrier_arrive_expect_tx(&full[s], kStageA + kStageB + kStageSA);
          ptx::tma_load_2d(tile_a + s * kStageA, &p.map_a, &full[s], kb * kBlockK, m_tile * kBM);
          if constexpr (kModeA == kGemmScaleAGroup128) {
            ptx::tma_load_2d(scale_a_tile + s * kBM, &p.map_sa, &full[s], m_tile * kBM, kb);
          }
          if constexpr (kCluster == 1) {
            ptx::tma_load_2d(tile_b + s * kStageB, &p.map_b, &full[s], kb * kBlockK, n_tile * kBN);
          } else {
            constexpr int kHalf = kBN / kCluster;
            ptx::tma_load_2d_multicast(tile_b + s * kStageB + rank * kHalf * kBlockK, &p.map_b, &full[s], kb * kBlockK,
                                       n_tile * kBN + rank * kHalf, static_cast<u16>((1 << kCluster) - 1));
          }
        }
      }
    }
  } else {
    // ---- consumers -------------------------------------------------------------------------------
    ptx::setmaxnreg_inc<Cfg::kConsumerRegisters>();
    const int wg = ptx::warpgroup_index() - 1;
    const int warp = ptx::warp_index_in_warpgroup();
    const int lane = static_cast<int>(threadIdx.x) % 32;
    // Accumulator fragment of wgmma m64nN (fp32): register i of a thread holds row
    // warp * 16 + lane / 4 + 8 * ((i / 2) % 2) and column (i / 4) * 8 + (lane % 4) * 2 + i % 2 of its slice.
    const int frag_row = warp * 16 + lane / 4;
    const int frag_col = (lane % 4) * 2;
    const int wg_thread = ptx::thread_index_in_warpgroup();
    u8* staged = tile_d + wg * kRows * kRowBytes / kPasses;  // this warpgroup's boxes: (kRows, kBoxBytes, kPassBoxes)
    // One arrival per consumer warp on the stage's empty barrier of every CTA of the cluster.
    const auto release_stage = [&](int s) {
      __syncwarp();
      if (lane != 0) return;
      if constexpr (kCluster == 1) {
        ptx::mbarrier_arrive(&empty[s]);
      } else {
#pragma unroll
        for (int peer = 0; peer < kCluster; ++peer) ptx::mbarrier_arrive_cluster(&empty[s], peer);
      }
    };

    int it = 0;
    for (int unit = first_unit; unit < units; unit += unit_stride) {
      int m_tile, n_tile;
      tile_of_unit<kCluster>(unit, rank, m_tiles, n_tiles, p.group_size_m, m_tile, n_tile);
      const int n0 = n_tile * kBN;
      float acc[kSlices][kAcc];
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl)
#pragma unroll
        for (int i = 0; i < kAcc; ++i) acc[sl][i] = 0.0f;

      // B scale blocks of this tile: 8-column groups below `split_group` (tile-relative) take the first.
      const int nb_first = n0 / kScaleBlock;
      const int nb_second = min(nb_first + 1, (p.n - 1) / kScaleBlock);
      const int split_group = ((nb_first + 1) * kScaleBlock - n0) / 8;
      const float* scale_b_first = p.scale_b + static_cast<i64>(nb_first) * p.scale_b_ld;
      const float* scale_b_second = p.scale_b + static_cast<i64>(nb_second) * p.scale_b_ld;

      for (int kb = 0; kb < k_blocks; ++kb, ++it) {
        const int s = it % kStages;
        // Global loads first: their latency hides behind the barrier wait and the MMAs.
        float sb_first = 1.0f, sb_second = 1.0f;
        if constexpr (kModeB == kGemmScaleBBlock128) {
          sb_first = __ldg(scale_b_first + kb);
          if constexpr (!kOneScaleBlock) sb_second = __ldg(scale_b_second + kb);
        }
        ptx::mbarrier_wait_parity(&full[s], (it / kStages) & 1);
        const u64 desc_b = ptx::wgmma_desc_k_major_sw128(tile_b + s * kStageB);
        if constexpr (!kPromote) {
#pragma unroll
          for (int sl = 0; sl < kSlices; ++sl) ptx::wgmma_fence_operands(acc[sl]);
          ptx::wgmma_fence();
#pragma unroll
          for (int sl = 0; sl < kSlices; ++sl) {
            const u64 desc_a = ptx::wgmma_desc_k_major_sw128(tile_a + s * kStageA + (wg * kRows + sl * 64) * kBlockK);
#pragma unroll
            for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
              ptx::wgmma_m64k32_e4m3<kBN>(acc[sl], ptx::wgmma_desc_advance(desc_a, k * kWgmmaK),
                                          ptx::wgmma_desc_advance(desc_b, k * kWgmmaK), true);
            }
          }
          ptx::wgmma_commit_group();
          ptx::wgmma_wait_group<0>();
#pragma unroll
          for (int sl = 0; sl < kSlices; ++sl) ptx::wgmma_fence_operands(acc[sl]);
          release_stage(s);
        } else {
#pragma unroll
          for (int sl = 0; sl < kSlices; ++sl) {
            const int row = wg * kRows + sl * 64 + frag_row;  // tile-relative
            float sa_lo = 1.0f, sa_hi = 1.0f;                 // rows `row` and `row + 8`
            if constexpr (kModeA == kGemmScaleAGroup128) {
              sa_lo = scale_a_tile[s * kBM + row];
              sa_hi = scale_a_tile[s * kBM + row + 8];
            }
            float scratch[kAcc];
            const u64 desc_a = ptx::wgmma_desc_k_major_sw128(tile_a + s * kStageA + (wg * kRows + sl * 64) * kBlockK);
            ptx::wgmma_fence_operands(scratch);
            ptx::wgmma_fence();
#pragma unroll
            for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
              ptx::wgmma_m64k32_e4m3<kBN>(scratch, ptx::wgmma_desc_advance(desc_a, k * kWgmmaK),
                                          ptx::wgmma_desc_advance(desc_b, k * kWgmmaK), k > 0);
            }
            ptx::wgmma_commit_group();
            ptx::wgmma_wait_group<0>();
            ptx::wgmma_fence_operands(scratch);
            // The stage is consumed (MMAs done, scales in registers): free it before promoting.
            if (sl == kSlices - 1) release_stage(s);
            const float lo_first = sa_lo * sb_first, hi_first = sa_hi * sb_first;
            const float lo_second = sa_lo * sb_second, hi_second = sa_hi * sb_second;
#pragma unroll
            for (int j = 0; j < kAcc / 4; ++j) {
              // Columns j * 8 .. j * 8 + 7 share a B scale block (`split` is a multiple of 8).
              const bool second = !kOneScaleBlock && j >= split_group;
              const float lo = second ? lo_second : lo_first;
              const float hi = second ? hi_second : hi_first;
#pragma unroll
              for (int i = j * 4; i < j * 4 + 4; ++i) acc[sl][i] = fmaf((i / 2) % 2 ? hi : lo, scratch[i], acc[sl][i]);
            }
          }
        }
      }

      // ---- epilogue: (acc · sa) · sb + bias into the staging boxes, then TMA stores (clipped at
      // D's edges) that run on while this warpgroup starts its next tile; half the boxes a pass
      // when their count is even.
      const float sa_tensor = kModeA == kGemmScaleATensor ? p.scale_a[0] : 1.0f;
      const float sb_tensor = kModeB == kGemmScaleBTensor ? p.scale_b[0] : 1.0f;
      const int row0 = m_tile * kBM + wg * kRows;
#pragma unroll
      for (int pass = 0; pass < kPasses; ++pass) {
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
    if (wg_thread == 0) ptx::tma_store_wait_all<0>();
  }
  // No CTA leaves while its peer may still multicast into it or arrive on its barriers.
  if constexpr (kCluster > 1) ptx::cluster_sync();
}

}  // namespace fp8kit
