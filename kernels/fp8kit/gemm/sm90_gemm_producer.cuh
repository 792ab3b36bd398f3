// The sm90 FP8 GEMM's producer (sm90_fp8_gemm.cuh): one elected thread of warpgroup 0 fills the
// kStages-deep ring with TMA loads of A, B and the group128 A scales, tile after tile, so the next
// tile's stages fill while the consumers store the last one.
#pragma once

#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>

namespace fp8kit::sm90_gemm {

// A cluster along M (kClusterM = 2) shares B: each CTA loads half of the B tile's rows, multicast
// into both; a cluster along N (kClusterN = 2) shares A the same way. Every CTA expects the whole
// stage's bytes on its own full barrier, its peer's half included.
template <class Cfg, int kModeA, class L, class Walk>
__device__ __forceinline__ void produce_tiles(const Sm90GemmParams& p, const Sm90GemmSmem<L>& sm, const Walk& walk) {
  constexpr int kStages = Cfg::kStages, kBM = L::kBM, kBN = Cfg::kBlockN;
  constexpr int kClusterM = Cfg::kClusterM, kClusterN = Cfg::kClusterN;
  constexpr u16 kPair = 0b11;
  ptx::tma_prefetch_descriptor(&p.map_a);
  ptx::tma_prefetch_descriptor(&p.map_b);
  if constexpr (kModeA == kGemmScaleAGroup128) ptx::tma_prefetch_descriptor(&p.map_sa);
  int it = 0;  // ring position over all tiles of this CTA
  for (int unit = walk.first_unit; unit < walk.units; unit += walk.unit_stride) {
    const TileCoord t = walk.tile(unit, it);
    for (int kb = 0; kb < walk.k_blocks; ++kb, ++it) {
      const int s = it % kStages;
      ptx::mbarrier_wait_parity(&sm.empty[s], ((it / kStages) & 1) ^ 1);
      ptx::mbarrier_arrive_expect_tx(&sm.full[s], L::kStageA + L::kStageB + L::kStageSA);
      if constexpr (kClusterN == 1) {
        ptx::tma_load_2d(sm.tile_a + s * L::kStageA, &p.map_a, &sm.full[s], kb * kBlockK, t.m_tile * kBM);
      } else {
        constexpr int kHalf = kBM / kClusterN;
        ptx::tma_load_2d_multicast(sm.tile_a + s * L::kStageA + walk.rank * kHalf * kBlockK, &p.map_a, &sm.full[s],
                                   kb * kBlockK, t.m_tile * kBM + walk.rank * kHalf, kPair);
      }
      if constexpr (kModeA == kGemmScaleAGroup128) {
        ptx::tma_load_2d(sm.scale_a + s * kBM, &p.map_sa, &sm.full[s], t.m_tile * kBM, kb);
      }
      if constexpr (kClusterM == 1) {
        ptx::tma_load_2d(sm.tile_b + s * L::kStageB, &p.map_b, &sm.full[s], kb * kBlockK, t.n_tile * kBN);
      } else {
        constexpr int kHalf = kBN / kClusterM;
        ptx::tma_load_2d_multicast(sm.tile_b + s * L::kStageB + walk.rank * kHalf * kBlockK, &p.map_b, &sm.full[s],
                                   kb * kBlockK, t.n_tile * kBN + walk.rank * kHalf, kPair);
      }
    }
  }
}

}  // namespace fp8kit::sm90_gemm
