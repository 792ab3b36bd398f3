// The sm90 FP8 GEMM's promotion (sm90_fp8_gemm.cuh): acc += (sa · sb) · scratch after each MMA
// unit, the B scale chosen per 8-column group where a tile straddles two 128-wide scale blocks.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>

namespace fp8kit::sm90_gemm {

// A K block's B scales: the tile's first and second scale block (1 where B has no 128x128 scales).
struct BScales {
  float first = 1.0f, second = 1.0f;
};

// A 64-row slice's A scales for this thread's accumulator rows (frag_row and frag_row + 8).
struct RowScales {
  float lo = 1.0f, hi = 1.0f;
};

// The scale factors of one MMA unit for this thread's accumulator rows (lo: frag_row, hi: +8) and
// the tile's first and second B scale block.
struct UnitScales {
  float lo_first, hi_first, lo_second, hi_second;
};

__device__ __forceinline__ UnitScales unit_scales(const RowScales& sa, const BScales& sb) {
  return {sa.lo * sb.first, sa.hi * sb.first, sa.lo * sb.second, sa.hi * sb.second};
}

// An MMA unit in flight (overlapped promotion): its stage and its B scales.
struct InFlight {
  BScales sb;
  RowScales sa;  // read at issue where registers allow (Consumer::kEarlyRowScales), else at retire
  int stage = 0;
};

// acc += factor · scratch, the factor chosen per accumulator row and 8-column group: groups
// j < split take the first B scale block. With a compile-time split no compare or select is left
// per group.
template <int kAcc>
__device__ __forceinline__ void promote_groups(float (&acc)[kAcc], const float (&scratch)[kAcc], const UnitScales& f,
                                               int split) {
#pragma unroll
  for (int j = 0; j < kAcc / 4; ++j) {
    const float lo = j < split ? f.lo_first : f.lo_second;
    const float hi = j < split ? f.hi_first : f.hi_second;
#pragma unroll
    for (int i = j * 4; i < j * 4 + 4; ++i) acc[i] = fmaf((i / 2) % 2 ? hi : lo, scratch[i], acc[i]);
  }
}

// Whether the consumer compiles its K loop once per split value (Consumer::split_dispatch) for a
// kBN-wide tile rather than taking one scale block or selecting per group at run time.
template <int kBN>
__host__ __device__ constexpr bool dispatches_split() {
  return kScaleBlock % kBN != 0 && (kBN > kScaleBlock || kBN >= 96);
}

// kSplit >= 0: the split as a compile-time value, from a loop compiled per split (tiles wider than
// a scale block and 96 / 112 wide ones: H200, m128n144/n192 1.05-1.07x, m128n96 1.08-1.09x at
// 3072 x 7168 / 1536, M = 512 / 2048, their 4 scale products ready before the wgmma wait).
// Narrower straddling tiles select per group at run time: dispatching their promotion on the split
// cost m64n48/n80 14-26%.
template <int kSplit, int kBN, int kAcc>
__device__ __forceinline__ void promote(float (&acc)[kAcc], const float (&scratch)[kAcc], const UnitScales& f,
                                        int split_group) {
  if constexpr (kSplit >= 0) {
    promote_groups(acc, scratch, f, kSplit);
  } else if constexpr (kScaleBlock % kBN == 0) {
    promote_groups(acc, scratch, f, kAcc / 4);  // one scale block per tile
  } else {
    promote_groups(acc, scratch, f, split_group);
  }
}

}  // namespace fp8kit::sm90_gemm
