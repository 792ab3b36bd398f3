// The sm90 FP8 GEMM's shared-memory carve-up and persistent tile walk
// (sm90_fp8_gemm.cuh). The host mirror of the layout is gemm_smem_layout() in src/core/gemm_config.cpp.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/scale_modes.cuh>
#include <fp8kit/gemm/sm90_gemm_params.cuh>
#include <fp8kit/ptx/tma.cuh>

namespace fp8kit {

namespace sm90_gemm {

constexpr int kBlockK = 128;  // one scale block = one 128B swizzle row of e4m3
constexpr int kWgmmaK = 32;
constexpr int kScaleBlock = 128;

__host__ __device__ constexpr int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

// Sizes in bytes, in gemm_smem_layout()'s order; tile buffers are multiples of 1024 bytes.
template <class Cfg, int kModeA, int kOut>
struct Sm90GemmLayout {
  static constexpr int kBM = Cfg::kBlockM, kBN = Cfg::kBlockN, kStages = Cfg::kStages;
  static constexpr int kRows = kBM / Cfg::kConsumerWarpgroups;  // rows per consumer warpgroup
  // 64-row wgmma slices per consumer warpgroup. A 16- or 32-row tile (decode) is one slice whose
  // rows past kRows read whatever follows the A stage in shared memory and are never stored.
  static constexpr int kSlices = kRows >= 64 ? kRows / 64 : 1;
  static constexpr int kValidWarps = kRows >= 64 ? 4 : kRows / 16;  // warps holding tile rows
  static constexpr int kStageA = kBM * kBlockK;                 // (kBM, 128) e4m3
  static constexpr int kStageB = kBN * kBlockK;                 // (kBN, 128) e4m3
  static constexpr int kStageSA = kModeA == kGemmScaleAGroup128 ? kBM * 4 : 0;  // (kBM) fp32
  // A TMA load's shared-memory destination must be 128-byte aligned: a 16-row tile's 64 bytes of
  // A scales take a 128-byte slot (expect_tx counts the box only).
  static constexpr int kSlotSA = (kStageSA + 127) / 128 * 128;
  // Epilogue staging: each consumer warpgroup's (kRows, kBN) part as boxes of (kRows, kBoxBytes),
  // swizzled as the TMA store reads them (gemm_store_box_bytes on the host), written in
  // kStorePasses passes through a buffer of 1 / kStorePasses of the boxes.
  static constexpr int kOutBytes = kOut == kGemmOutF32 ? 4 : 2;
  static constexpr int kRowBytes = kBN * kOutBytes;
  static constexpr int kBoxBytes = kRowBytes % 128 == 0 ? 128 : kRowBytes % 64 == 0 ? 64 : 32;
  static constexpr int kBoxes = kRowBytes / kBoxBytes;
  static constexpr int kPasses = Cfg::kStorePasses;
  static constexpr int kPassBoxes = kBoxes / kPasses;
  // Split-K in a cluster (Cfg::kSplitCluster, sm90_gemm_split_cluster.cuh): each split's fp32
  // partial tile, rows kPartialPitch floats apart, overwrites its CTA's ring once the K loop is
  // done, and nothing is staged for TMA stores.
  static constexpr bool kSplitCluster = Cfg::kSplitCluster;
  static constexpr int kPartialPitch = kBN + 8;  // the 8 rows of a fragment store fall in 2 bank wavefronts
  static constexpr int kStaging = kSplitCluster ? 0 : kBM * kRowBytes / kPasses;

  static_assert(kRows == 64 || kRows == 128 || (Cfg::kConsumerWarpgroups == 1 && (kRows == 16 || kRows == 32)),
                "64 or 128 rows per consumer warpgroup, or 16 / 32 with one");
  static_assert(kBN % 16 == 0 && kBN >= 16 && kBN <= 256, "block_n: multiple of 16 in [16, 256]");
  static_assert(kRowBytes % 32 == 0, "a tile row is a whole number of 32-byte boxes");
  static_assert(kPasses == 1 || (kPasses == 2 && kBoxes % 2 == 0), "1 store pass, or 2 over an even box count");
  static_assert(!kSplitCluster || kBM * kPartialPitch * 4 <= kStages * (kStageA + kStageB),
                "the split's partial tile fits in the ring it overwrites");

  // Whether warp `warp` of a consumer warpgroup holds tile rows (not the discarded rows of a 16- or
  // 32-row tile): a compile-time true for full tiles, so their loops stay branch-free.
  __device__ __forceinline__ static bool warp_holds_rows(int warp) {
    if constexpr (kValidWarps == 4) return true;
    return warp < kValidWarps;
  }
};

// The carve-up twice: pointers for what C++ reads and writes (A scales, staged output, partials),
// 32-bit shared addresses (ptx::smem_u32_base) for what PTX takes (barriers, TMA, descriptors).
template <class L>
struct Sm90GemmSmem {
  static constexpr u32 kTileB = L::kStages * L::kStageA, kTileD = kTileB + L::kStages * L::kStageB;
  static constexpr u32 kScaleA = kTileD + L::kStaging, kFull = kScaleA + L::kStages * L::kSlotSA;
  static constexpr u32 kEmpty = kFull + 8 * L::kStages;
  u8* tile_a;      // (kBM, 128, kStages)
  u8* tile_d;      // (kBM, kBN / kPasses) out, staged
  float* scale_a;  // (kBM, kStages), stage stride kSlotSA bytes
  u32 base;        // tile_a's shared address
  __device__ explicit Sm90GemmSmem(u8* smem)
      : tile_a(smem),
        tile_d(smem + kTileD),
        scale_a(reinterpret_cast<float*>(smem + kScaleA)),
        base(ptx::smem_u32_base(smem)) {}
  __device__ __forceinline__ u32 a_at(int s) const { return base + s * L::kStageA; }
  __device__ __forceinline__ u32 b_at(int s) const { return base + kTileB + s * L::kStageB; }
  __device__ __forceinline__ u32 scale_a_at(int s) const { return base + kScaleA + s * L::kSlotSA; }
  __device__ __forceinline__ u32 full(int s) const { return base + kFull + 8 * s; }  // u64 barriers
  __device__ __forceinline__ u32 empty(int s) const { return base + kEmpty + 8 * s; }
};

// A position in the kStages-deep ring of stages: the stage and its phase bit, moved once per K
// block over all tiles of the CTA (producer and consumers each hold one).
template <int kStages>
struct RingCursor {
  int stage = 0;
  u32 phase = 0;
  __device__ __forceinline__ void advance() {
    if (++stage == kStages) {
      stage = 0;
      phase ^= 1;
    }
  }
};

// One tile of a CTA's walk and what its consumers need of it.
struct TileCoord {
  int m_tile, n_tile;
  int split, kb_begin, kb_count;  // the K range of this split: K blocks [kb_begin, kb_begin + kb_count)
  // B scale blocks of the tile, from the split's first K block: 8-column groups below split_group
  // (tile-relative) take the first.
  const float* scale_b_first;
  const float* scale_b_second;
  int split_group;
};

// Persistent: cluster c takes units c, c + clusters, ...; one unit is one tile per CTA of a cluster,
// a (kClusterM, kClusterN) block of tiles (one of the two is 1) and one of its kSplitK K ranges.
// kSplitK is compile-time so that kernels without split-K compile to the walk they had before it.
template <int kClusterM, int kClusterN, int kSplitK>
struct TileWalk {
  static constexpr int kCluster = kClusterM * kClusterN;
  const Sm90GemmParams& p;
  int block_m, block_n;
  int m_units, n_units, units, first_unit, unit_stride, rank, k_blocks;

  __device__ TileWalk(const Sm90GemmParams& params, int bm, int bn)
      : p(params),
        block_m(bm),
        block_n(bn),
        m_units((params.m + bm - 1) / bm / kClusterM),
        n_units((params.n + bn - 1) / bn / kClusterN),
        units(m_units * n_units * kSplitK),
        first_unit(static_cast<int>(blockIdx.x) / kCluster),
        unit_stride(static_cast<int>(gridDim.x) / kCluster),
        rank(static_cast<int>(blockIdx.x) % kCluster),  // == %cluster_ctarank for cluster dims (kCluster, 1, 1)
        k_blocks((params.k + kBlockK - 1) / kBlockK) {}

  // Units walk groups of group_size_m unit rows down each unit column before moving right, so the
  // units in flight at once share B tiles and A tiles in L2.
  __device__ __forceinline__ TileCoord tile(int unit) const {
    TileCoord t;
    // The splits of a tile are neighbouring units: ceil(K blocks / kSplitK) each, the last the rest.
    t.split = unit % kSplitK;
    unit /= kSplitK;
    const int per_split = (k_blocks + kSplitK - 1) / kSplitK;
    t.kb_begin = t.split * per_split;
    t.kb_count = min(per_split, k_blocks - t.kb_begin);
    const int per_group = p.group_size_m * n_units;
    const int group = unit / per_group;
    const int first = group * p.group_size_m;
    const int rows = min(m_units - first, p.group_size_m);
    const int in_group = unit - group * per_group;
    t.m_tile = (first + in_group % rows) * kClusterM + (kClusterM > 1 ? rank : 0);
    t.n_tile = in_group / rows * kClusterN + (kClusterN > 1 ? rank : 0);
    const int n0 = t.n_tile * block_n;
    const int nb_first = n0 / kScaleBlock;
    const int nb_second = min(nb_first + 1, (p.n - 1) / kScaleBlock);
    t.split_group = ((nb_first + 1) * kScaleBlock - n0) / 8;
    t.scale_b_first = p.scale_b + static_cast<i64>(nb_first) * p.scale_b_ld + t.kb_begin;
    t.scale_b_second = p.scale_b + static_cast<i64>(nb_second) * p.scale_b_ld + t.kb_begin;
    return t;
  }
};

}  // namespace sm90_gemm
}  // namespace fp8kit
