// The own Hopper FP8 GEMM (DESIGN.md §3–§4): D = A · Bᵀ with A (M, K) and B (N, K) E4M3, K-major,
// D (M, N) row-major bf16 / fp16 / fp32.
//
// Warp specialization: warpgroup 0 is the producer (one elected thread issues TMA loads of A, B and
// the group128 A scales into a kStages-deep shared-memory ring; full/empty mbarrier per stage);
// warpgroups 1..kConsumerWarpgroups are consumers, each owning kBlockM / kConsumerWarpgroups rows
// of the tile and every column. A stage is one 128-wide K block = one scale block, so:
//   - promoted modes (A group128 and/or B block128): each 64-row slice of a K block (an "MMA unit")
//     accumulates in a scratch accumulator (4 x wgmma m64nNk32), then acc += (sa · sb) · scratch on
//     the CUDA cores in fp32. With kOverlapPromotion the scratch is double-buffered: a unit's MMAs
//     are issued before the previous unit is promoted, so the tensor cores always have work queued
//     while the CUDA cores promote (the host enables it where the registers allow);
//   - modes without 128-wide scales (tensor / token x tensor / channel) promote the same way with
//     unit factors (an FADD per accumulator: every K block's sum reaches fp32), unless
//     Cfg::kFastAccum: then the tensor cores accumulate all of K in acc (cuBLASLt's fast
//     accumulation), one K block's MMAs in flight while the previous stage is released.
// The epilogue multiplies by the per-tensor / per-token / per-channel factors (acc · sa) · sb, adds
// the bias, stages the tile in swizzled shared memory and writes it with TMA stores.
// With kClusterM = 2 the two CTAs of a cluster take vertically adjacent tiles of one N column and
// each loads half of the shared B tile, multicast into both; with kClusterN = 2 they take
// horizontally adjacent tiles of one M row and share A the same way (DeepGEMM's choice for large
// shapes: a 256 x 128 tile then pulls 32 KB per K block from L2 instead of 48).
// With Cfg::kSplitK > 1 each CTA takes one K range of a tile: its fp32 partial goes to a workspace
// slab that split_k_reduce.cuh sums, or, with Cfg::kSplitCluster, the tile's CTAs are one cluster
// and sum each other's partials in shared memory (sm90_gemm_split_cluster.cuh).
// Launched programmatically (PDL): every thread waits for the previous grid before its first
// global access, so barrier set-up and descriptor prefetch overlap the previous kernel's tail;
// with p.prefetch_b (B is a weight that kernel does not write) the first ring of B loads too.
//
// The consumers' K loops are in sm90_gemm_consumer.cuh, the producer's in sm90_gemm_producer.cuh.
// The host mirror of every rule here is src/core/gemm_config.cpp (validity, shared-memory layout,
// register budgets, overlap and store passes); the launcher is src/ops/sm90_fp8_gemm.cpp.
#pragma once

#include <fp8kit/common/pdl.cuh>
#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/sm90_gemm_consumer.cuh>
#include <fp8kit/gemm/sm90_gemm_epilogue.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/gemm/sm90_gemm_producer.cuh>
#include <fp8kit/gemm/sm90_gemm_split_cluster.cuh>
#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/warpgroup.cuh>

namespace fp8kit {

template <class Cfg, int kModeA, int kModeB, int kOut>
__device__ __forceinline__ void sm90_fp8_gemm(const Sm90GemmParams& p) {
  using namespace sm90_gemm;
  using L = Sm90GemmLayout<Cfg, kModeA, kOut>;
  using C = Consumer<Cfg, kModeA, kModeB, kOut>;
  constexpr int kStages = Cfg::kStages, kWG = Cfg::kConsumerWarpgroups;
  constexpr int kCluster = Cfg::kClusterM * Cfg::kClusterN;
  // Without 128-wide scales, promotion (with unit factors: an FADD per accumulator) keeps every K
  // block's sum in fp32 unless fast accumulation was asked for.
  constexpr bool kPromote = kModeA == kGemmScaleAGroup128 || kModeB == kGemmScaleBBlock128 || !Cfg::kFastAccum;
  static_assert(kModeA != kGemmScaleAGroup128 && kModeB != kGemmScaleBBlock128 || !Cfg::kFastAccum,
                "128-wide scales always promote");
  static_assert(Cfg::kBlockK == kBlockK, "one stage is one 128-wide K block");
  static_assert(kCluster == 1 || kCluster == 2, "cluster of 1 or 2 CTAs, along M or along N");
  static_assert(kStages >= 2 && kStages <= 32, "2..32 stages");

  extern __shared__ __align__(1024) u8 smem[];
  const Sm90GemmSmem<L> sm(smem);
  const TileWalk<Cfg::kClusterM, Cfg::kClusterN, Cfg::kSplitK> walk(p, L::kBM, Cfg::kBlockN);
  // A split cluster's CTAs meet once per tile: each takes exactly one unit (the host launches them all).
  if constexpr (L::kSplitCluster) {
    if (walk.unit_stride != walk.units) __trap();
  }

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      ptx::mbarrier_init(sm.full(s), 1);
      // Every consumer warp of every CTA of the cluster frees the stage (the shared operand lands in both).
      ptx::mbarrier_init(sm.empty(s), kWG * 4 * kCluster);
    }
    ptx::fence_mbarrier_init();
  }
  if constexpr (kCluster > 1) {
    ptx::cluster_sync();
  } else {
    __syncthreads();
  }

  // Every thread waits for the previous grid before its first global access but the loader, which
  // may first start the weights' stream (p.prefetch_b) and waits in produce_tiles.
  if (ptx::warpgroup_index() == 0) {
    ptx::setmaxnreg_dec<Cfg::kProducerRegisters>();
    if (ptx::warp_index_in_warpgroup() == 0 && ptx::elect_one_sync()) {
      produce_tiles<Cfg, kModeA>(p, sm, walk);
    } else {
      wait_prior_grid_and_release_next();
    }
    if constexpr (L::kSplitCluster) {  // the consumers' barrier between publishing and summing the partials
      __syncwarp();
      ptx::cluster_sync();
    }
  } else {
    wait_prior_grid_and_release_next();
    ptx::setmaxnreg_inc<Cfg::kConsumerRegisters>();
    const C consumer(p, sm, ptx::warpgroup_index() - 1);
    const EpilogueStore<L, kModeA, kModeB, kOut> store{p, sm.tile_d, consumer.wg};
    RingCursor<kStages> ring;  // continues from tile to tile, as the producer's
    for (int unit = walk.first_unit; unit < walk.units; unit += walk.unit_stride) {
      const TileCoord t = walk.tile(unit);
      float acc[C::kSlices][C::kAcc];  // (kRows, kBlockN) fp32 in wgmma fragments
#pragma unroll
      for (int sl = 0; sl < C::kSlices; ++sl)
#pragma unroll
        for (int i = 0; i < C::kAcc; ++i) acc[sl][i] = 0.0f;
      if constexpr (kPromote) {
        consumer.mainloop_promoted(acc, t, ring);
      } else {
        consumer.mainloop_unpromoted(acc, t, ring);
      }
      if constexpr (L::kSplitCluster) {
        ptx::named_barrier_sync(1 + kWG, kWG * ptx::kWarpgroupThreads);  // no consumer's wgmma reads the ring now
        const SplitClusterReduce<L, kModeA, kModeB, kOut, Cfg::kSplitK, kWG> split{p, store,
                                                                                 reinterpret_cast<float*>(sm.tile_a)};
        split.publish(acc, t);
        ptx::cluster_sync();
        split.reduce(t, static_cast<int>(threadIdx.x) - ptx::kWarpgroupThreads);
      } else {
        store.tile(acc, t);
      }
    }
    store.finish();
  }
  // No CTA leaves while its peer may still multicast into it, arrive on its barriers or read its
  // partial tile.
  if constexpr (kCluster > 1 || L::kSplitCluster) ptx::cluster_sync();
}

}  // namespace fp8kit
