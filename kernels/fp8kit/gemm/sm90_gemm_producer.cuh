// The sm90 FP8 GEMM's producer (sm90_fp8_gemm.cuh): one elected thread of warpgroup 0 fills the
// kStages-deep ring with TMA loads of A, B and the group128 A scales, tile after tile, so the next
// tile's stages fill while the consumers store the last one.
#pragma once

#include <fp8kit/common/pdl.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>

namespace fp8kit::sm90_gemm {

// K block kb of one operand's (kRows, 128) tile from row0: loaded whole, or, shared by the kShared =
// 2 CTAs of a cluster, as this CTA's half of the rows multicast into both.
template <int kRows, int kShared>
__device__ __forceinline__ void load_operand(u32 stage, const CUtensorMapOpaque* map, u32 full, int kb, int row0,
                                             int rank) {
  if constexpr (kShared == 1) {
    ptx::tma_load_2d(stage, map, full, kb * kBlockK, row0);
  } else {
    constexpr int kHalf = kRows / kShared;
    ptx::tma_load_2d_multicast(stage + rank * kHalf * kBlockK, map, full, kb * kBlockK, row0 + rank * kHalf,
                               static_cast<u16>((1 << kShared) - 1));
  }
}

// Stage s's B tile, from row n_tile * kBlockN at K block kb.
template <class Cfg, class L>
__device__ __forceinline__ void load_stage_b(const Sm90GemmParams& p, const Sm90GemmSmem<L>& sm, int s, int kb,
                                             const TileCoord& t, int rank) {
  load_operand<Cfg::kBlockN, Cfg::kClusterM>(sm.b_at(s), &p.map_b, sm.full(s), kb,
                                             t.n_tile * Cfg::kBlockN, rank);
}

// A cluster along M (kClusterM = 2) shares B: each CTA loads half of the B tile's rows, multicast
// into both; a cluster along N (kClusterN = 2) shares A the same way. Every CTA expects the whole
// stage's bytes on its own full barrier, its peer's half included.
// The previous grid may write A and its scales, so they load after waiting for it. With
// p.prefetch_b the weights do not depend on it: the first tile's first ring of B streams before
// the wait (at decode a ring is most of a CTA's K range), the stages' barriers armed, empty anyway.
template <class Cfg, int kModeA, class L, class Walk>
__device__ __forceinline__ void produce_tiles(const Sm90GemmParams& p, const Sm90GemmSmem<L>& sm, const Walk& walk) {
  constexpr int kStages = Cfg::kStages, kBM = L::kBM;
  ptx::tma_prefetch_descriptor(&p.map_a);
  ptx::tma_prefetch_descriptor(&p.map_b);
  if constexpr (kModeA == kGemmScaleAGroup128) ptx::tma_prefetch_descriptor(&p.map_sa);
  constexpr int kStageBytes = L::kStageA + L::kStageB + L::kStageSA;
  int early = 0;  // stages armed with their B loading
  if (p.prefetch_b != 0 && walk.first_unit < walk.units) {
    const TileCoord t = walk.tile(walk.first_unit);
    early = min(kStages, t.kb_count);
    for (int s = 0; s < early; ++s) {
      ptx::mbarrier_arrive_expect_tx(sm.full(s), kStageBytes);
      load_stage_b<Cfg>(p, sm, s, t.kb_begin + s, t, walk.rank);
    }
  }
  wait_prior_grid_and_release_next();
  RingCursor<kStages> ring;
  for (int unit = walk.first_unit; unit < walk.units; unit += walk.unit_stride) {
    const TileCoord t = walk.tile(unit);
    for (int i = 0; i < t.kb_count; ++i, ring.advance()) {
      const int s = ring.stage, kb = t.kb_begin + i;
      const bool b_loading = early > 0;
      if (b_loading) {
        --early;
      } else {
        ptx::mbarrier_wait_parity(sm.empty(s), ring.phase ^ 1);
        ptx::mbarrier_arrive_expect_tx(sm.full(s), kStageBytes);
      }
      load_operand<kBM, Cfg::kClusterN>(sm.a_at(s), &p.map_a, sm.full(s), kb, t.m_tile * kBM,
                                        walk.rank);
      if constexpr (kModeA == kGemmScaleAGroup128) {
        ptx::tma_load_2d(sm.scale_a_at(s), &p.map_sa, sm.full(s), t.m_tile * kBM, kb);
      }
      if (!b_loading) load_stage_b<Cfg>(p, sm, s, kb, t, walk.rank);
    }
  }
}

}  // namespace fp8kit::sm90_gemm
