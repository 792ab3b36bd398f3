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
// The host mirror of every rule here is src/core/gemm_config.cpp (validity, shared-memory layout,
// register budgets, overlap and store passes); the launcher is src/ops/sm90_fp8_gemm.cpp.
#pragma once

#include <fp8kit/common/pdl.cuh>
#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/sm90_gemm_epilogue.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/gemm/sm90_gemm_producer.cuh>
#include <fp8kit/gemm/sm90_gemm_promotion.cuh>
#include <fp8kit/gemm/sm90_gemm_split_cluster.cuh>
#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>

namespace fp8kit {
namespace sm90_gemm {

// The time between one wgmma batch of a warpgroup finishing and its next batch being issued is
// what the tensor pipe loses unless the other warpgroup's batch covers it (ncu, 2026-12-03: with
// m256n128 that gap decided 68% against DeepGEMM's 88% tensor-pipe use). So nothing on that path
// waits on a load or divides: scales are read before the batch is issued, descriptors are a 32-bit
// add on a base, and the ring position is a (stage, phase) cursor.
template <class Cfg, int kModeA, int kModeB, int kOut>
struct Consumer {
  using L = Sm90GemmLayout<Cfg, kModeA, kOut>;
  using Ring = RingCursor<Cfg::kStages>;
  static constexpr int kBN = Cfg::kBlockN, kCluster = Cfg::kClusterM * Cfg::kClusterN;
  static constexpr int kSlices = L::kSlices;     // 64-row wgmma slices per consumer warpgroup
  static constexpr int kAcc = kBN / 2;           // fp32 accumulators per thread per slice
  static constexpr bool kOverlap = Cfg::kOverlapPromotion;
  // One 64-row slice: the unit's A scales are read right after its MMAs are issued, so the retire
  // finds them in registers (ncu, 2112 x 7168 M = 512, 2026-12-04: 23% of the stall samples were the
  // scale FMULs waiting on that read when it came after the wait). Two slices keep the late read:
  // 256 x 128 tiles have no registers to hold them across the MMAs.
  static constexpr bool kEarlyRowScales = kSlices == 1;
  // A tile never straddles two B scale blocks when its width divides 128 (tiles start at multiples of it).
  static constexpr bool kOneScaleBlock = kScaleBlock % kBN == 0;
  static constexpr int kSplitStep = gcd(kBN, kScaleBlock) / 8;  // see promote_dispatch
  static_assert(kModeB != kGemmScaleBBlock128 || kScaleBlock - gcd(kBN, kScaleBlock) + kBN <= 2 * kScaleBlock,
                "a tile touches at most two B scale blocks (its worst start is 128 - gcd(block_n, 128))");
  static_assert(!kOverlap || kModeA == kGemmScaleAGroup128 || kModeB == kGemmScaleBBlock128 || !Cfg::kFastAccum,
                "overlapped promotion needs promotion");

  const Sm90GemmParams& p;
  const Sm90GemmSmem<L>& sm;
  int wg, lane, frag_row;
  u64 desc_a0, desc_b0;  // this warpgroup's first A slice and the B tile, at stage 0

  __device__ Consumer(const Sm90GemmParams& params, const Sm90GemmSmem<L>& smem, int warpgroup)
      : p(params),
        sm(smem),
        wg(warpgroup),
        lane(static_cast<int>(threadIdx.x) % 32),
        frag_row(ptx::warp_index_in_warpgroup() * 16 + lane / 4),
        desc_a0(ptx::wgmma_desc_k_major_sw128(smem.tile_a + warpgroup * L::kRows * kBlockK)),
        desc_b0(ptx::wgmma_desc_k_major_sw128(smem.tile_b)) {}

  // One arrival per consumer warp on the stage's empty barrier of every CTA of the cluster (lane i
  // arrives on CTA i's).
  __device__ __forceinline__ void release_stage(int s) const {
    __syncwarp();
    if constexpr (kCluster == 1) {
      if (lane == 0) ptx::mbarrier_arrive(&sm.empty[s]);
    } else {
      if (lane < kCluster) ptx::mbarrier_arrive_cluster(&sm.empty[s], static_cast<u32>(lane));
    }
  }

  __device__ __forceinline__ u64 desc_a(int s, int sl) const {
    return ptx::wgmma_desc_advance(desc_a0, static_cast<u32>(s * L::kStageA + sl * 64 * kBlockK));
  }
  __device__ __forceinline__ u64 desc_b(int s) const {
    return ptx::wgmma_desc_advance(desc_b0, static_cast<u32>(s * L::kStageB));
  }

  // The four k32 MMAs of one K block for one 64-row slice, as one committed group.
  __device__ __forceinline__ void issue_mma(float (&d)[kAcc], int s, int sl, bool accumulate) const {
    const u64 a = desc_a(s, sl), b = desc_b(s);
    ptx::wgmma_fence_operands(d);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
      ptx::wgmma_m64k32_e4m3<kBN>(d, ptx::wgmma_desc_advance(a, k * kWgmmaK), ptx::wgmma_desc_advance(b, k * kWgmmaK),
                                  accumulate || k > 0);
    }
    ptx::wgmma_commit_group();
  }

  // Global loads, issued with the unit's MMAs so that their latency hides behind them.
  __device__ __forceinline__ BScales load_b_scales(const TileCoord& t, int kb) const {
    BScales sb;
    if constexpr (kModeB == kGemmScaleBBlock128) {
      sb.first = __ldg(t.scale_b_first + kb);
      if constexpr (!kOneScaleBlock) sb.second = __ldg(t.scale_b_second + kb);
    }
    return sb;
  }

  // Whether this thread's accumulator rows are tile rows: warp-uniform (frag_row / 16 is the warp).
  __device__ __forceinline__ bool holds_rows() const { return L::warp_holds_rows(frag_row / 16); }

  // The stage's A scales of slice sl (tile-relative rows; a discarded row reads a tile row's).
  __device__ __forceinline__ RowScales row_scales(int s, int sl) const {
    RowScales sa;
    if constexpr (kModeA == kGemmScaleAGroup128) {
      const int row = wg * L::kRows + sl * 64 + (L::kRows >= 64 ? frag_row : frag_row % L::kRows);
      sa.lo = sm.scale_a[s * (L::kSlotSA / 4) + row];
      sa.hi = sm.scale_a[s * (L::kSlotSA / 4) + row + 8];
    }
    return sa;
  }

  // Issues MMA unit u (K block u / kSlices, slice u % kSlices) into `d` and loads its B scales;
  // u % 2 == kParity, so the slice is a compile-time value. The cursor moves past the K block
  // with its last slice.
  template <int kParity>
  __device__ __forceinline__ InFlight issue_unit(float (&d)[kAcc], int u, const TileCoord& t, Ring& ring) const {
    constexpr int sl = kSlices == 2 ? kParity : 0;
    InFlight unit{load_b_scales(t, u / kSlices), {}, ring.stage};
    if constexpr (sl == 0) ptx::mbarrier_wait_parity(&sm.full[unit.stage], ring.phase);
    issue_mma(d, unit.stage, sl, false);
    if constexpr (kEarlyRowScales) unit.sa = row_scales(unit.stage, sl);
    if constexpr (sl == kSlices - 1) ring.advance();
    return unit;
  }

  // A unit's MMAs are done (after the wait that retires them): take its A scales (read at issue,
  // or now where two slices leave no registers to hold them across the MMAs), free its stage once
  // its last slice is done, then promote it into its slice of acc.
  template <int kParity>
  __device__ __forceinline__ void retire_unit(float (&acc)[kSlices][kAcc], float (&d)[kAcc], const InFlight& unit,
                                              const TileCoord& t) const {
    constexpr int sl = kSlices == 2 ? kParity : 0;
    ptx::wgmma_fence_operands(d);
    const UnitScales f = unit_scales(kEarlyRowScales ? unit.sa : row_scales(unit.stage, sl), unit.sb);
    if constexpr (sl == kSlices - 1) release_stage(unit.stage);
    if (holds_rows()) promote<kAcc, kBN, kSplitStep>(acc[sl], d, f, t.split_group);
  }

  // Overlapped: unit u + 1 is issued before unit u is promoted (wgmma.wait_group 1), so one unit's
  // MMAs are always queued. Units alternate between two scratch buffers; the loop is written so
  // that the buffer in flight is fixed at each point of the code (ptxas serializes the wgmmas when
  // it cannot prove that the promotion reads a finished buffer).
  __device__ __forceinline__ void mainloop_overlapped(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                      Ring& ring) const {
    float s0[kAcc], s1[kAcc];  // (64, kBN) fp32 each, in wgmma fragments: even and odd units
    const int units = t.kb_count * kSlices;
    InFlight u0 = issue_unit<0>(s0, 0, t, ring), u1;
    int u = 1;
    for (; u + 1 < units; u += 2) {
      u1 = issue_unit<1>(s1, u, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<0>(acc, s0, u0, t);
      u0 = issue_unit<0>(s0, u + 1, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<1>(acc, s1, u1, t);
    }
    if (u < units) {
      u1 = issue_unit<1>(s1, u, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<0>(acc, s0, u0, t);
      ptx::wgmma_wait_group<0>();
      retire_unit<1>(acc, s1, u1, t);
    } else {
      ptx::wgmma_wait_group<0>();
      retire_unit<0>(acc, s0, u0, t);
    }
  }

  // One unit at a time: the tensor cores wait while the unit is promoted unless the other consumer
  // warpgroup's MMAs fill the gap, so the unit's A scales are read before its MMAs are issued.
  __device__ __forceinline__ void mainloop_serial(float (&acc)[kSlices][kAcc], const TileCoord& t, Ring& ring) const {
    float scratch[kAcc];  // (64, kBN) fp32, in wgmma fragments
    for (int kb = 0; kb < t.kb_count; ++kb, ring.advance()) {
      const int s = ring.stage;
      const BScales sb = load_b_scales(t, kb);
      ptx::mbarrier_wait_parity(&sm.full[s], ring.phase);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) {
        const RowScales sa = row_scales(s, sl);
        issue_mma(scratch, s, sl, false);
        ptx::wgmma_wait_group<0>();
        ptx::wgmma_fence_operands(scratch);
        if (sl == kSlices - 1) release_stage(s);
        if (holds_rows()) promote<kAcc, kBN, kSplitStep>(acc[sl], scratch, unit_scales(sa, sb), t.split_group);
      }
    }
  }

  __device__ __forceinline__ void mainloop_promoted(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                    Ring& ring) const {
    if constexpr (kOverlap) {
      mainloop_overlapped(acc, t, ring);
    } else {
      mainloop_serial(acc, t, ring);
    }
  }

  // The tensor cores accumulate all of K. (Keeping one K block's MMAs in flight here, releasing the
  // stage before, made m256n128 spill 24 bytes under ptxas 13.0: one block at a time.)
  __device__ __forceinline__ void mainloop_unpromoted(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                      Ring& ring) const {
    for (int kb = 0; kb < t.kb_count; ++kb, ring.advance()) {
      const int s = ring.stage;
      ptx::mbarrier_wait_parity(&sm.full[s], ring.phase);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) ptx::wgmma_fence_operands(acc[sl]);
      ptx::wgmma_fence();
      const u64 b = desc_b(s);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) {
        const u64 a = desc_a(s, sl);
#pragma unroll
        for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
          ptx::wgmma_m64k32_e4m3<kBN>(acc[sl], ptx::wgmma_desc_advance(a, k * kWgmmaK),
                                      ptx::wgmma_desc_advance(b, k * kWgmmaK), true);
        }
      }
      ptx::wgmma_commit_group();
      ptx::wgmma_wait_group<0>();
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) ptx::wgmma_fence_operands(acc[sl]);
      release_stage(s);
    }
  }
};

}  // namespace sm90_gemm

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
      ptx::mbarrier_init(&sm.full[s], 1);
      // Every consumer warp of every CTA of the cluster frees the stage (the shared operand lands in both).
      ptx::mbarrier_init(&sm.empty[s], kWG * 4 * kCluster);
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
