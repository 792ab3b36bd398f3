// The sm90 FP8 GEMM's producer (sm90_fp8_gemm.cuh): one elected thread of warpgroup 0 fills the
// kStages-deep ring with TMA loads of A, B and the group128 A scales, tile after tile, so the next
// tile's stages fill while the consumers store the last one.
#pragma once

#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>

namespace fp8kit::sm90_gemm {

template <class Cfg, int kModeA, class L>
__device__ __forceinline__ void produce_tiles(const Sm90GemmParams& p, const Sm90GemmSmem<L>& sm, const TileWalk& walk) {
  constexpr int kStages = Cfg::kStages, kCluster = Cfg::kClusterM, kBN = Cfg::kBlockN;
  ptx::tma_prefetch_descriptor(&p.map_a);
  ptx::tma_prefetch_descriptor(&p.map_b);
  if constexpr (kModeA == kGemmScaleAGroup128) ptx::tma_prefetch_descriptor(&p.map_sa);
  int it = 0;  // ring position over all tiles of this CTA
  for (int unit = walk.first_unit; unit < walk.units; unit += walk.unit_stride) {
    const TileCoord t = walk.tile<kCluster>(unit, it);
    for (int kb = 0; kb < walk.k_blocks; ++kb, ++it) {
      const int s = it % kStages;
      ptx::mbarrier_wait_parity(&sm.empty[s], ((it / kStages) & 1) ^ 1);
      ptx::mbarrier_arrive_expect_tx(&sm.full[s], L::kStageA + L::kStageB + L::kStageSA);
      ptx::tma_load_2d(sm.tile_a + s * L::kStageA, &p.map_a, &sm.full[s], kb * kBlockK, t.m_tile * L::kBM);
      if constexpr (kModeA == kGemmScaleAGroup128) {
        ptx::tma_load_2d(sm.scale_a + s * L::kBM, &p.map_sa, &sm.full[s], t.m_tile * L::kBM, kb);
      }
      if constexpr (kCluster == 1) {
        ptx::tma_load_2d(sm.tile_b + s * L::kStageB, &p.map_b, &sm.full[s], kb * kBlockK, t.n_tile * kBN);
      } else {
        constexpr int kHalf = kBN / kCluster;
        ptx::tma_load_2d_multicast(sm.tile_b + s * L::kStageB + walk.rank * kHalf * kBlockK, &p.map_b, &sm.full[s],
                                   kb * kBlockK, t.n_tile * kBN + walk.rank * kHalf, static_cast<u16>((1 << kCluster) - 1));
      }
    }
  }
}

}  // namespace fp8kit::sm90_gemm
