// The sm90 FP8 GEMM's consumer warpgroups (sm90_fp8_gemm.cuh): the K loops that issue the wgmmas
// of each stage and promote them into the fp32 accumulators, one warpgroup's rows each.
//   - overlapped_k_loop: a unit's MMAs issued before the previous unit is promoted (two scratch
//     accumulators), where the registers allow (Cfg::kOverlapPromotion);
//   - serial_k_loop: one unit at a time; the other consumer warpgroup's MMAs fill the tensor pipe;
//   - mainloop_unpromoted: the tensor cores accumulate all of K (fast accumulation).
// The promoted loops run the ring's laps unrolled where the registers allow: a lap is one pass of
// the kStages-deep ring, so each stage is a compile-time value and its barrier, descriptor and
// A-scale offsets are immediates (DeepGEMM gets the same from a compile-time K).
// Tiles that straddle two B scale blocks compile either loop once per split value (split_dispatch).
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/gemm/sm90_gemm_promotion.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>

namespace fp8kit::sm90_gemm {

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
  static constexpr int kSplitStep = gcd(kBN, kScaleBlock) / 8;  // see split_dispatch
  static constexpr bool kDispatchSplit = kModeB == kGemmScaleBBlock128 && dispatches_split<kBN>();
  // The serial loop's laps unrolled (kStages K blocks per iteration) unless the split makes more
  // than two copies of the loop for two 64-row slices (m128n112 s3 wg1 and m256n112 s3 spilled).
  static constexpr bool kSerialLaps = !kDispatchSplit || kScaleBlock / gcd(kBN, kScaleBlock) <= 2 || kSlices == 1;
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
        desc_a0(ptx::wgmma_desc_k_major_sw128(smem.a_at(0) + warpgroup * L::kRows * kBlockK)),
        desc_b0(ptx::wgmma_desc_k_major_sw128(smem.b_at(0))) {}

  // One arrival per consumer warp on the stage's empty barrier of every CTA of the cluster (lane i
  // arrives on CTA i's).
  __device__ __forceinline__ void release_stage(int s) const {
    __syncwarp();
    if constexpr (kCluster == 1) {
      if (lane == 0) ptx::mbarrier_arrive(sm.empty(s));
    } else {
      if (lane < kCluster) ptx::mbarrier_arrive_cluster(sm.empty(s), static_cast<u32>(lane));
    }
  }

  __device__ __forceinline__ u64 desc_a(int s, int sl) const {
    return ptx::wgmma_desc_add(desc_a0, static_cast<u32>(s * L::kStageA + sl * 64 * kBlockK));
  }
  __device__ __forceinline__ u64 desc_b(int s) const {
    return ptx::wgmma_desc_add(desc_b0, static_cast<u32>(s * L::kStageB));
  }

  // The four k32 MMAs of one K block for one 64-row slice, as one committed group.
  __device__ __forceinline__ void issue_mma(float (&d)[kAcc], int s, int sl, bool accumulate) const {
    const u64 a = desc_a(s, sl), b = desc_b(s);
    ptx::wgmma_fence_operands(d);
    ptx::wgmma_fence();
#pragma unroll
    for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
      ptx::wgmma_m64k32_e4m3<kBN>(d, ptx::wgmma_desc_add(a, k * kWgmmaK), ptx::wgmma_desc_add(b, k * kWgmmaK),
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

  // Issues MMA unit u (K block u / kSlices, slice u % kSlices) of stage s into `d` and loads its
  // B scales; u % 2 == kParity, so the slice is a compile-time value (and s is one in the laps).
  template <int kParity>
  __device__ __forceinline__ InFlight issue_unit_at(float (&d)[kAcc], int u, const TileCoord& t, int s,
                                                    u32 phase) const {
    constexpr int sl = kSlices == 2 ? kParity : 0;
    InFlight unit{load_b_scales(t, u / kSlices), {}, s};
    if constexpr (sl == 0) ptx::mbarrier_wait_parity(sm.full(s), phase);
    issue_mma(d, s, sl, false);
    if constexpr (kEarlyRowScales) unit.sa = row_scales(s, sl);
    return unit;
  }

  // The same at the cursor's stage; the cursor moves past the K block with its last slice.
  template <int kParity>
  __device__ __forceinline__ InFlight issue_unit(float (&d)[kAcc], int u, const TileCoord& t, Ring& ring) const {
    const InFlight unit = issue_unit_at<kParity>(d, u, t, ring.stage, ring.phase);
    if constexpr ((kSlices == 2 ? kParity : 0) == kSlices - 1) ring.advance();
    return unit;
  }

  // A unit's MMAs are done (after the wait that retires them): take its A scales (read at issue,
  // or now where two slices leave no registers to hold them across the MMAs), free its stage once
  // its last slice is done, then promote it into its slice of acc.
  // kStage >= 0: the unit's stage as a compile-time value (the overlapped loop's laps); kSplit >= 0:
  // the tile's B-scale split as one (split_dispatch).
  template <int kParity, int kStage = -1, int kSplit = -1>
  __device__ __forceinline__ void retire_unit(float (&acc)[kSlices][kAcc], float (&d)[kAcc], const InFlight& unit,
                                              const TileCoord& t) const {
    constexpr int sl = kSlices == 2 ? kParity : 0;
    const int stage = kStage >= 0 ? kStage : unit.stage;
    ptx::wgmma_fence_operands(d);
    const UnitScales f = unit_scales(kEarlyRowScales ? unit.sa : row_scales(stage, sl), unit.sb);
    if constexpr (sl == kSlices - 1) release_stage(stage);
    if (holds_rows()) promote<kSplit, kBN>(acc[sl], d, f, t.split_group);
  }

  // Units per lap of the overlapped loop's laps (one pass of the ring; its even count brings the
  // scratch buffer back too). Only one-slice tiles with an even stage count and one B scale block
  // per tile, or a dispatched split with at most 32 units over its copies (one loop per split
  // value): laps of 2 x kStages units spilled at m128n128 s5 and m128n80 s7, 4 x 12 at m16n96 s12;
  // 0: no laps.
  static constexpr int kSplitCopies = kScaleBlock / gcd(kBN, kScaleBlock);
  static constexpr bool kLapsFit =
      kOneScaleBlock || kModeB != kGemmScaleBBlock128 || (kDispatchSplit && kSplitCopies * Cfg::kStages <= 32);
  static constexpr int kLapUnits = kSlices == 1 && Cfg::kStages % 2 == 0 && kLapsFit ? Cfg::kStages : 0;

  // Unit u at lap position kI (one slice: a unit is a K block): stage kI % kStages, so barrier,
  // descriptor and A-scale offsets are immediates; position kStages is the next lap's first.
  template <int kI>
  __device__ __forceinline__ InFlight issue_at(float (&d)[kAcc], int u, const TileCoord& t, u32 lap_phase) const {
    return issue_unit_at<0>(d, u, t, kI % Cfg::kStages, lap_phase ^ static_cast<u32>(kI == Cfg::kStages));
  }

  // Lap positions kI..kLapUnits, unit u at kI: issue it, retire the one before (the other buffer).
  template <int kI, int kSplit>
  __device__ __forceinline__ void lap_steps(float (&acc)[kSlices][kAcc], float (&s0)[kAcc], float (&s1)[kAcc],
                                            InFlight& u0, InFlight& u1, int u, const TileCoord& t,
                                            u32 lap_phase) const {
    if constexpr (kI <= kLapUnits) {
      constexpr int before = (kI - 1) % Cfg::kStages;
      if constexpr (kI % 2 == 1) {
        u1 = issue_at<kI>(s1, u, t, lap_phase);
        ptx::wgmma_wait_group<1>();
        retire_unit<0, before, kSplit>(acc, s0, u0, t);
      } else {
        u0 = issue_at<kI>(s0, u, t, lap_phase);
        ptx::wgmma_wait_group<1>();
        retire_unit<1, before, kSplit>(acc, s1, u1, t);
      }
      lap_steps<kI + 1, kSplit>(acc, s0, s1, u0, u1, u + 1, t, lap_phase);
    }
  }

  // Overlapped: unit u + 1 is issued before unit u is promoted (wgmma.wait_group 1), so one unit's
  // MMAs are always queued. Units alternate between two scratch buffers; the loop is written so
  // that the buffer in flight is fixed at each point of the code (ptxas serializes the wgmmas when
  // it cannot prove that the promotion reads a finished buffer).
  template <int kSplit>
  __device__ __forceinline__ void overlapped_k_loop(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                    Ring& ring) const {
    float s0[kAcc], s1[kAcc];  // (64, kBN) fp32 each, in wgmma fragments: even and odd units
    const int units = t.kb_count * kSlices;
    InFlight u0, u1;
    int u = 1;
    // A tile that starts the ring's lap runs whole laps unrolled (kLapUnits units each), then the
    // loop below takes the rest from lap position 1, unit u - 1 in flight in s0 (kLapUnits is even).
    if (kLapUnits > 0 && ring.stage == 0 && units > kLapUnits) {
      u32 lap_phase = ring.phase;
      u0 = issue_at<0>(s0, 0, t, lap_phase);
      for (; u + kLapUnits <= units; u += kLapUnits) {
        lap_steps<1, kSplit>(acc, s0, s1, u0, u1, u, t, lap_phase);
        lap_phase ^= 1;
      }
      ring.stage = 1;
      ring.phase = lap_phase;
    } else {
      u0 = issue_unit<0>(s0, 0, t, ring);
    }
    for (; u + 1 < units; u += 2) {
      u1 = issue_unit<1>(s1, u, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<0, -1, kSplit>(acc, s0, u0, t);
      u0 = issue_unit<0>(s0, u + 1, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<1, -1, kSplit>(acc, s1, u1, t);
    }
    if (u < units) {
      u1 = issue_unit<1>(s1, u, t, ring);
      ptx::wgmma_wait_group<1>();
      retire_unit<0, -1, kSplit>(acc, s0, u0, t);
      ptx::wgmma_wait_group<0>();
      retire_unit<1, -1, kSplit>(acc, s1, u1, t);
    } else {
      ptx::wgmma_wait_group<0>();
      retire_unit<0, -1, kSplit>(acc, s0, u0, t);
    }
  }

  // One K block at stage s: a compile-time value inside serial_k_loop's laps, so the barrier,
  // descriptor and A-scale offsets of the stage are immediates there.
  template <int kSplit>
  __device__ __forceinline__ void serial_k_block(float (&acc)[kSlices][kAcc], const TileCoord& t, int kb, int s,
                                                 u32 phase) const {
    float scratch[kAcc];  // (64, kBN) fp32, in wgmma fragments
    const BScales sb = load_b_scales(t, kb);
    ptx::mbarrier_wait_parity(sm.full(s), phase);
#pragma unroll
    for (int sl = 0; sl < kSlices; ++sl) {
      const RowScales sa = row_scales(s, sl);
      issue_mma(scratch, s, sl, false);
      ptx::wgmma_wait_group<0>();
      ptx::wgmma_fence_operands(scratch);
      if (sl == kSlices - 1) release_stage(s);
      if (holds_rows()) promote<kSplit, kBN>(acc[sl], scratch, unit_scales(sa, sb), t.split_group);
    }
  }

  // Serial: one unit at a time; the tensor cores wait while it is promoted unless the other consumer
  // warpgroup's MMAs fill the gap, so its A scales are read before its MMAs are issued. Up to the
  // ring's first stage one K block at a time, then whole laps unrolled (where kSerialLaps), then the rest.
  template <int kSplit>
  __device__ __forceinline__ void serial_k_loop(float (&acc)[kSlices][kAcc], const TileCoord& t, Ring& ring) const {
    int kb = 0;
    for (; kb < t.kb_count && ring.stage != 0; ++kb, ring.advance()) {
      serial_k_block<kSplit>(acc, t, kb, ring.stage, ring.phase);
    }
    if constexpr (kSerialLaps) {
      for (; kb + Cfg::kStages <= t.kb_count; kb += Cfg::kStages, ring.phase ^= 1) {
#pragma unroll
        for (int s = 0; s < Cfg::kStages; ++s) serial_k_block<kSplit>(acc, t, kb + s, s, ring.phase);
      }
    }
    for (; kb < t.kb_count; ++kb, ring.advance()) serial_k_block<kSplit>(acc, t, kb, ring.stage, ring.phase);
  }

  // Widths that straddle two B scale blocks at run-time-varying splits (dispatches_split) compile the
  // promoted K loop once per split value: nothing in it re-derives the split per unit, and the
  // overlapped loop's laps stay unrolled (m128n96 s6: 114 -> 93 instructions a K block; H100,
  // 2026-12-06: 1.10-1.12x on 96 / 112-wide tiles at 3072 x 7168 and 7168 x 2048, M = 512).
  __device__ __forceinline__ void mainloop_promoted(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                    Ring& ring) const {
    if constexpr (kDispatchSplit) {
      split_dispatch(acc, t, ring);
    } else {
      promoted_k_loop<-1>(acc, t, ring);
    }
  }

  // The run-time split (TileCoord::split_group) to one compiled loop per value: a tile of width kBN
  // starts at a multiple of gcd(kBN, 128) inside a scale block, so the split is 16 - i * kSplitStep
  // groups, at most 128 / gcd values.
  template <int kSplit = 16>
  __device__ __forceinline__ void split_dispatch(float (&acc)[kSlices][kAcc], const TileCoord& t, Ring& ring) const {
    if constexpr (kSplit <= kSplitStep) {
      promoted_k_loop<kSplit>(acc, t, ring);  // the last value: no test left
    } else if (t.split_group == kSplit) {
      promoted_k_loop<kSplit>(acc, t, ring);
    } else {
      split_dispatch<kSplit - kSplitStep>(acc, t, ring);
    }
  }

  template <int kSplit>
  __device__ __forceinline__ void promoted_k_loop(float (&acc)[kSlices][kAcc], const TileCoord& t, Ring& ring) const {
    if constexpr (kOverlap) {
      overlapped_k_loop<kSplit>(acc, t, ring);
    } else {
      serial_k_loop<kSplit>(acc, t, ring);
    }
  }

  // The tensor cores accumulate all of K. (Keeping one K block's MMAs in flight here, releasing the
  // stage before, made m256n128 spill 24 bytes under ptxas 13.0: one block at a time.)
  __device__ __forceinline__ void mainloop_unpromoted(float (&acc)[kSlices][kAcc], const TileCoord& t,
                                                      Ring& ring) const {
    for (int kb = 0; kb < t.kb_count; ++kb, ring.advance()) {
      const int s = ring.stage;
      ptx::mbarrier_wait_parity(sm.full(s), ring.phase);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) ptx::wgmma_fence_operands(acc[sl]);
      ptx::wgmma_fence();
      const u64 b = desc_b(s);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl) {
        const u64 a = desc_a(s, sl);
#pragma unroll
        for (int k = 0; k < kBlockK / kWgmmaK; ++k) {
          ptx::wgmma_m64k32_e4m3<kBN>(acc[sl], ptx::wgmma_desc_add(a, k * kWgmmaK), ptx::wgmma_desc_add(b, k * kWgmmaK),
                                      true);
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

}  // namespace fp8kit::sm90_gemm
