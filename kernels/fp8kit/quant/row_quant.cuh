// Dynamic per-token (per-channel) and per-group 1xG quantization: one read of the input and one
// write of the output. The row (or group) stays in registers between the amax and the cast.
#pragma once

#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

// Per-token, one warp per row: rows of at most 32 * 8 * kVecs elements. A block holds
// kThreads / 32 rows. Scale of row r at scales[r * s_rs].
template <class In, int kThreads, int kVecs, bool kVector>
__device__ __forceinline__ void quant_row_warp(const QuantParams& p) {
  static_assert(kThreads % 32 == 0 && kVecs >= 1, "whole warps");
  const int lane = threadIdx.x % 32;
  const int row = blockIdx.x * (kThreads / 32) + threadIdx.x / 32;
  if (row >= p.rows) return;  // the whole warp leaves together
  const char* x = input_row<In>(p, row);
  const int chunks = (p.cols + kChunk - 1) / kChunk;
  Chunk<In> c[kVecs];  // (kVecs) chunks of 8, chunk index v * 32 + lane
  float amax = 0.0f;
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    const int ci = v * 32 + lane;
    if (ci < chunks) {
      load_chunk<In, kVector>(x, ci, p.cols, c[v]);
      amax = chunk_amax(c[v], amax);
    }
  }
  amax = lanes_max<32>(amax);
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (lane == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    const int ci = v * 32 + lane;
    if (ci < chunks) quantize_store_chunk<In, kVector>(c[v], d, q, ci, p.cols);
  }
}

// Per-token, one block per row: rows of at most kThreads * 8 * kVecs elements.
template <class In, int kThreads, int kVecs, bool kVector>
__device__ __forceinline__ void quant_row_block(const QuantParams& p) {
  __shared__ float red[kThreads / 32];
  const int row = blockIdx.x;
  const char* x = input_row<In>(p, row);
  const int chunks = (p.cols + kChunk - 1) / kChunk;
  Chunk<In> c[kVecs];  // (kVecs) chunks of 8, chunk index v * kThreads + tid
  float amax = 0.0f;
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    const int ci = v * kThreads + threadIdx.x;
    if (ci < chunks) {
      load_chunk<In, kVector>(x, ci, p.cols, c[v]);
      amax = chunk_amax(c[v], amax);
    }
  }
  amax = block_max<kThreads>(amax, red);
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (threadIdx.x == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    const int ci = v * kThreads + threadIdx.x;
    if (ci < chunks) quantize_store_chunk<In, kVector>(c[v], d, q, ci, p.cols);
  }
}

// Per-token for rows too long for registers: one block per row reads it twice (the second read
// mostly hits L2), kUnroll chunks in flight per thread.
template <class In, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void quant_row_loop(const QuantParams& p) {
  __shared__ float red[kThreads / 32];
  const int row = blockIdx.x;
  const char* x = input_row<In>(p, row);
  const int chunks = (p.cols + kChunk - 1) / kChunk;
  float amax = 0.0f;
  for (int base = threadIdx.x; base < chunks; base += kThreads * kUnroll) {
    Chunk<In> c[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) load_chunk<In, kVector>(x, base + u * kThreads, p.cols, c[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) amax = chunk_amax(c[u], amax);
    }
  }
  amax = block_max<kThreads>(amax, red);
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (threadIdx.x == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
  for (int base = threadIdx.x; base < chunks; base += kThreads * kUnroll) {
    Chunk<In> c[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) load_chunk<In, kVector>(x, base + u * kThreads, p.cols, c[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) quantize_store_chunk<In, kVector>(c[u], d, q, base + u * kThreads, p.cols);
    }
  }
}

// Per-group 1 x kGroup: kGroup / 8 consecutive lanes hold one group (8 elements each) and reduce
// it with xor shuffles. Work item g names one scale cell:
//   kRowsFastest (column-major scales): row = g % scale_rows_pad, column group = g / scale_rows_pad,
//     so neighbouring lanes write neighbouring scales; rows M .. scale_rows_pad-1 are TMA padding
//     and get a 0 scale;
//   otherwise (row-major scales): row = g / scale_cols, column group = g % scale_cols.
// Each block takes kUnroll * (kThreads / (kGroup / 8)) consecutive items.
template <class In, int kGroup, bool kRowsFastest, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void quant_group(const QuantParams& p) {
  static_assert(kGroup == 32 || kGroup == 64 || kGroup == 128, "G in {32, 64, 128}");
  constexpr int kLanes = kGroup / kChunk;  // threads per group: 4, 8 or 16
  constexpr int kSlots = kThreads / kLanes;
  static_assert(kThreads % 32 == 0, "whole warps");
  const int sub = threadIdx.x / kLanes, lane = threadIdx.x % kLanes;
  const u32 first = blockIdx.x * static_cast<u32>(kSlots * kUnroll) + sub;

  Chunk<In> c[kUnroll];  // (kUnroll) chunks: one per group this thread helps with
  float amax[kUnroll];
  int row[kUnroll], grp[kUnroll];
  bool item[kUnroll], live[kUnroll];
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const u32 g = first + static_cast<u32>(u * kSlots);
    item[u] = g < p.items;
    if constexpr (kRowsFastest) {
      grp[u] = static_cast<int>(g / static_cast<u32>(p.scale_rows_pad));
      row[u] = static_cast<int>(g - static_cast<u32>(grp[u]) * static_cast<u32>(p.scale_rows_pad));
    } else {
      row[u] = static_cast<int>(g / static_cast<u32>(p.scale_cols));
      grp[u] = static_cast<int>(g - static_cast<u32>(row[u]) * static_cast<u32>(p.scale_cols));
    }
    live[u] = item[u] && row[u] < p.rows;
    amax[u] = 0.0f;
    if (live[u]) load_chunk<In, kVector>(input_row<In>(p, row[u]), grp[u] * kLanes + lane, p.cols, c[u]);
  }
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    if (live[u]) amax[u] = chunk_amax(c[u], 0.0f);
    amax[u] = lanes_max<kLanes>(amax[u]);  // every lane of the warp takes part
  }
#pragma unroll
  for (int u = 0; u < kUnroll; ++u) {
    const float s = dynamic_scale(amax[u], p.scale_ub, p.ue8m0 != 0);
    const Divisor d = make_divisor(s);
    if (item[u] && lane == 0) p.scales[static_cast<i64>(row[u]) * p.s_rs + static_cast<i64>(grp[u]) * p.s_cs] = live[u] ? s : 0.0f;
    if (live[u]) quantize_store_chunk<In, kVector>(c[u], d, output_row(p, row[u]), grp[u] * kLanes + lane, p.cols);
  }
}

}  // namespace fp8kit
