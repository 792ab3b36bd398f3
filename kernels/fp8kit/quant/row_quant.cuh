// Dynamic per-token (per-channel) and per-group 1xG quantization. The main kernels read whole
// 16-byte chunks (cols % 8 == 0, aligned rows): every load of a thread is issued before the first
// use (predicated ldg16_if, then the amax in a separate loop), the row or group stays in registers
// between the amax and the cast, and x is read once. The ragged kernels take any alignment and
// any K, checking each chunk's bounds: the per-token one reads the row twice (it also serves rows
// too long for registers), the per-group one holds one chunk a lane.
#pragma once

#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

// Per-token, one warp per row (rows of at most 32 * 8 * kVecs elements), kThreads / 32 rows per block.
template <class In, int kThreads, int kVecs>
__device__ __forceinline__ void quant_row_warp(const QuantParams& p) {
  static_assert(kThreads % 32 == 0 && kVecs >= 1, "whole warps");
  const int lane = threadIdx.x % 32;
  const int row = blockIdx.x * (kThreads / 32) + threadIdx.x / 32;
  if (row >= p.rows) return;  // the whole warp leaves together
  const char* x = input_row<In>(p, row);
  const int chunks = p.cols / kChunk;
  Chunk<In> c[kVecs];
#pragma unroll
  for (int v = 0; v < kVecs; ++v) load_whole_chunk_if<In>(x, v * 32 + lane, v * 32 + lane < chunks, c[v]);
  const float amax = warp_max_nonneg(chunks_amax(c));  // absent chunks are +0
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (lane == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
  if (regular_group(amax, p.scale_ub)) quantize_store_strided<In, false>(c, d, q, lane, 32, chunks);  // the warp agrees
  else quantize_store_strided<In, true>(c, d, q, lane, 32, chunks);
}

// Per-token, one block per row; the launch picks blockDim.x (a multiple of 32, at most
// kMaxThreads) so that blockDim.x * kVecs covers the row's chunks with the fewest idle slots.
template <class In, int kMaxThreads, int kVecs>
__device__ __forceinline__ void quant_row_block(const QuantParams& p) {
  static_assert(kMaxThreads % 32 == 0 && kVecs >= 1, "whole warps");
  __shared__ float red[kMaxThreads / 32];
  const int row = blockIdx.x;
  const int tid = threadIdx.x, nt = blockDim.x;
  const char* x = input_row<In>(p, row);
  const int chunks = p.cols / kChunk;
  Chunk<In> c[kVecs];
#pragma unroll
  for (int v = 0; v < kVecs; ++v) load_whole_chunk_if<In>(x, v * nt + tid, v * nt + tid < chunks, c[v]);
  float amax = warp_max_nonneg(chunks_amax(c));
  if (nt > 32) {
    if (tid % 32 == 0) red[tid / 32] = amax;
    __syncthreads();
    amax = red[0];
#pragma unroll
    for (int w = 1; w < kMaxThreads / 32; ++w) {
      if (w < nt / 32) amax = fmaxf(amax, red[w]);
    }
  }
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (tid == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
  if (regular_group(amax, p.scale_ub)) quantize_store_strided<In, false>(c, d, q, tid, nt, chunks);  // the block agrees
  else quantize_store_strided<In, true>(c, d, q, tid, nt, chunks);
}

// The run's kRun chunks of this lane quantized and stored at q_lane + u * G bytes; group g0 + u's
// scale and reciprocal come from lane u (of the kLanes) by shuffle, so every lane of the warp
// must call it.
template <class In, bool kChecked, int kLanes, int kRun>
__device__ __forceinline__ void store_run(const Chunk<In> (&c)[kRun], float s_mine, float r_mine, int base, bool live,
                                          int g0, int scale_cols, u8* q_lane) {
#pragma unroll
  for (int u = 0; u < kRun; ++u) {
    const int g = g0 + u;
    Divisor d;
    d.s = __shfl_sync(0xFFFFFFFFu, s_mine, base + u % kLanes);
    d.r = __shfl_sync(0xFFFFFFFFu, r_mine, base + u % kLanes);
    d.thr = d.s == __uint_as_float(0x7F800000u) ? 0.0f : __uint_as_float(0x71800000u);  // as make_divisor
    if (live && g < scale_cols) quantize_store_whole_chunk<In, kChecked>(c[u], d, q_lane, u * kLanes);
  }
}

// Per-group 1 x kGroup, kGroup / 8 lanes per group, and each set of lanes takes a run of kRun
// consecutive groups of one row (kRun loads in flight per thread, one integer division per
// thread). Work item r names a run: runs = ceil(scale_cols / kRun) per row;
//   kRowsFastest (column-major scales): row = r % scale_rows_pad, run = r / scale_rows_pad, so
//     neighbouring lanes write neighbouring scales; rows M .. scale_rows_pad-1 get 0 scales;
//     kRowBlocks: a block still takes kSlots neighbouring rows of one run, but consecutive
//     blocks walk that row block's runs before the next rows, so the blocks in flight read a
//     compact stretch of x instead of a column of segments spread over every row;
//   otherwise: row = r / runs, run = r % runs.
// p.items = (kRowsFastest ? scale_rows_pad : rows) * runs.
template <class In, int kGroup, bool kRowsFastest, int kThreads, int kRun, bool kRowBlocks = false>
__device__ __forceinline__ void quant_group_runs(const QuantParams& p) {
  static_assert(kGroup == 32 || kGroup == 64 || kGroup == 128, "G in {32, 64, 128}");
  constexpr int kLanes = kGroup / kChunk;
  constexpr int kSlots = kThreads / kLanes;
  static_assert(kRun <= kLanes, "a lane per group of a run computes its scale");
  static_assert(kThreads % 32 == 0 && kRun >= 1, "whole warps");
  const int sub = threadIdx.x / kLanes, lane = threadIdx.x % kLanes;
  const u32 item = blockIdx.x * static_cast<u32>(kSlots) + static_cast<u32>(sub);
  const u32 runs = (static_cast<u32>(p.scale_cols) + kRun - 1) / kRun;
  static_assert(kRowsFastest || !kRowBlocks, "row blocks order column-major work");
  u32 row, run;
  bool is_item;
  if constexpr (kRowBlocks) {
    const u32 row_block = blockIdx.x / runs;
    run = blockIdx.x - row_block * runs;
    row = row_block * static_cast<u32>(kSlots) + static_cast<u32>(sub);
    is_item = row < static_cast<u32>(p.scale_rows_pad);
  } else if constexpr (kRowsFastest) {
    run = item / static_cast<u32>(p.scale_rows_pad);
    row = item - run * static_cast<u32>(p.scale_rows_pad);
    is_item = item < p.items;
  } else {
    row = item / runs;
    run = item - row * runs;
    is_item = item < p.items;
  }
  const bool live = is_item && row < static_cast<u32>(p.rows);
  const int g0 = static_cast<int>(run) * kRun;
  const char* x = input_row<In>(p, live ? static_cast<int>(row) : 0);
  Chunk<In> c[kRun];
#pragma unroll
  for (int u = 0; u < kRun; ++u) load_whole_chunk_if<In>(x, (g0 + u) * kLanes + lane, live && g0 + u < p.scale_cols, c[u]);
  // Lane j gets the amax of group j % kRun only and computes that group's scale and reciprocal
  // (one fp32 division and one reciprocal per thread instead of kRun, whose slow paths are calls
  // that would keep all runs' values live); each group's lanes fetch theirs with a shuffle.
  float amax[kRun];
#pragma unroll
  for (int u = 0; u < kRun; ++u) amax[u] = chunk_amax(c[u], 0.0f);
  const float mine = lanes_max_scatter<kLanes, kRun>(amax);  // every lane takes part
  const float s_mine = dynamic_scale(mine, p.scale_ub, p.ue8m0 != 0);
  const float r_mine = __frcp_rn(s_mine);
  const int base = static_cast<int>(threadIdx.x % 32) - lane;  // the first lane of this group's lanes
  float* srow = p.scales + static_cast<i64>(row) * p.s_rs;
  // Lane u < kRun holds group g0 + u's scale and writes it: one store a thread, no branch a group.
  if (is_item && lane < kRun && g0 + lane < p.scale_cols) srow[static_cast<i64>(g0 + lane) * p.s_cs] = live ? s_mine : 0.0f;
  u8* q_lane = output_row(p, live ? static_cast<int>(row) : 0) + static_cast<i64>(g0 * kLanes + lane) * kChunk;
  if (__all_sync(0xFFFFFFFFu, regular_group(mine, p.scale_ub))) {
    store_run<In, false, kLanes>(c, s_mine, r_mine, base, live, g0, p.scale_cols, q_lane);
  } else {
    store_run<In, true, kLanes>(c, s_mine, r_mine, base, live, g0, p.scale_cols, q_lane);
  }
}

// fn(chunk, chunk index) for each chunk of a row, kUnroll chunks of kThreads threads in flight:
// the loads of a round are issued before the first use.
template <class In, int kThreads, int kUnroll, bool kVector, class Fn>
__device__ __forceinline__ void for_each_row_chunk(const char* x, int cols, Fn&& fn) {
  const int chunks = (cols + kChunk - 1) / kChunk;
  for (int base = threadIdx.x; base < chunks; base += kThreads * kUnroll) {
    Chunk<In> c[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) load_chunk<In, kVector>(x, base + u * kThreads, cols, c[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * kThreads < chunks) fn(c[u], base + u * kThreads);
    }
  }
}

// Per-token, ragged or unaligned rows and rows too long for registers: one block per row reads it
// twice (the second read mostly hits L2), kUnroll chunks in flight per thread.
template <class In, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void quant_row_two_pass(const QuantParams& p) {
  __shared__ float red[kThreads / 32];
  const int row = blockIdx.x;
  const char* x = input_row<In>(p, row);
  float amax = 0.0f;
  for_each_row_chunk<In, kThreads, kUnroll, kVector>(x, p.cols, [&](const Chunk<In>& c, int) { amax = chunk_amax(c, amax); });
  amax = block_max<kThreads>(amax, red);
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (threadIdx.x == 0) p.scales[static_cast<i64>(row) * p.s_rs] = s;
  u8* q = output_row(p, row);
  for_each_row_chunk<In, kThreads, kUnroll, kVector>(
      x, p.cols, [&](const Chunk<In>& c, int ci) { quantize_store_chunk<In, kVector>(c, d, q, ci, p.cols); });
}

// Per-group 1 x kGroup, any alignment: kGroup / 8 consecutive lanes hold one group (8 elements
// each) and reduce it with xor shuffles. Work item g names one scale cell:
//   kRowsFastest (column-major scales): row = g % scale_rows_pad, column group = g / scale_rows_pad,
//     so neighbouring lanes write neighbouring scales; rows M .. scale_rows_pad-1 are TMA padding
//     and get a 0 scale;
//   otherwise (row-major scales): row = g / scale_cols, column group = g % scale_cols.
// Each block takes kUnroll * (kThreads / (kGroup / 8)) consecutive items.
template <class In, int kGroup, bool kRowsFastest, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void quant_group_ragged(const QuantParams& p) {
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
