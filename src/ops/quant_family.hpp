// The quantization kernel family's measured rules and configuration builders, shared by the
// planner (quant_plan.cpp) and the list of every configuration it can pick (quant_kernels.cpp).
// Every rule was measured on an H200 (docs/PERF.md, 2026-11-21 to 11-22); the numbers behind each
// are in the comment above it.
#pragma once

#include <cstdint>

#include "ops/quant_kernels.hpp"

namespace fp8kit::ops::quant_family {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
inline std::int64_t round_up32(std::int64_t a) { return ceil_div(a, 32) * 32; }

constexpr DType kInputs[] = {DType::kBFloat16, DType::kFloat16, DType::kFloat32};
constexpr int kGroups[] = {32, 64, 128};
constexpr int kElementwiseThreads = 256, kElementwiseChunks = 4;

// Per-token, a warp a row up to 32 x 4 chunks (1024 elements), 8 rows a block; with at most as
// many rows as SMs, one row a block, so that each row gets an SM of its own (small calls are
// latency, and an SM's share of the bytes adds to it: see kGroupTinyThreads).
constexpr int kWarpMaxChunks = 32 * 4, kWarpThreads = 256, kWarpTinyThreads = 32;
constexpr int kTokenBlockMaxThreads = 512;
// Ragged rows and rows beyond kTokenBlockMaxThreads x 8 chunks: a block a row, read twice.
constexpr int kTwoPassChunks = 4, kTwoPassNarrowThreads = 128, kTwoPassWideThreads = 512;

// Chunks a thread of the block-a-row kernel, measured (bf16, 4096x7168 and 8192x4096, two runs;
// % of the copy ceiling): 8 when that still gives at least 128 threads (7168: 95.1-97.4% at 8 x 128
// threads against 93.2-93.4% at 4 x 224), else 4 (4096: 95.1-95.3% at 4 x 128 against 90.3-91.7% at
// 8 x 64 and 85.6-86.2% at 2 x 256). With fewer rows than SMs, 4 where 512 threads hold the row
// (16x7168: 2.01 us against 2.13 at 8), and 2 where 512 threads hold the row at 2 (16x4096 1.68 us
// against 1.76 at 4, 16x7168 1.99 against 2.01). fp32 chunks are twice as large: 4.
inline int token_block_chunks(DType input, std::int64_t chunks, std::int64_t rows, int sm_count) {
  if (input == DType::kFloat32) return 4;
  const bool fits4 = round_up32(ceil_div(chunks, 4)) <= kTokenBlockMaxThreads;
  if (round_up32(ceil_div(chunks, 8)) >= 128 && (rows >= sm_count || !fits4)) return 8;
  if (rows < sm_count && round_up32(ceil_div(chunks, 2)) <= kTokenBlockMaxThreads) return 2;
  return 4;
}

// Groups a run: 4 (row-major: 85.9-89.8% of copy against 83.0-86.0% with 8; runs of 2 were slower on
// large shapes, 75-82%); fp32: 2. `small` (runs of 8 would give fewer blocks than SMs): 2 (M = 16,
// H = 4096 and 7168: 1.70-1.77 us at 2 against 2.16-2.24 at 4 and 2.9-3.0 at 8).
constexpr int kGroupThreads = 256;
inline int group_run(DType input, bool small) { return input == DType::kFloat32 || small ? 2 : 4; }

// Tiny grids, where runs of 1 in blocks of 128 threads still give at most one CTA an SM: up to 8x
// the CTAs on as many more SMs. Such a call is latency, and each SM's share of the loads and stores
// adds to it (M = 1 and 16, H = 896 to 7168: 0.93-1.08 us against 1.09-1.27 us with runs of 2 in
// 256 threads; geomean 1.10x over the 90 configurations this rule takes at M = 1 to 128).
constexpr int kGroupTinyThreads = 128;

// Column-major scales, G >= 64, grids that fill the GPU: blocks walk a block of rows across the
// row before the next rows (8192 x 7168, G = 128: 49.2 -> 46.9 us); the column order had the
// blocks in flight read one segment from each of up to 10k rows. G = 32 is unmeasured and keeps it.
inline bool group_row_blocks(int group, bool rows_fastest, bool small) { return rows_fastest && group >= 64 && !small; }

// Dynamic per-tensor in one launch while x fits the registers of one cluster: 512 threads a CTA,
// 1, 2 or 4 chunks each (the fewest that fit), one CTA up to 512 x 4 chunks, else a cluster of 8.
constexpr int kOneLaunchThreads = 512, kOneLaunchCluster = 8;
constexpr int kOneLaunchChunks[] = {1, 2, 4};

inline QuantKernelConfig config(QuantKernelKind kind, DType input, bool vector, int threads, int chunks) {
  QuantKernelConfig c;
  c.kind = kind;
  c.input = input;
  c.vector = vector;
  c.threads = threads;
  c.chunks = chunks;
  return c;
}

inline QuantKernelConfig group_runs(DType input, int group, bool rows_fastest, int run, int threads, bool row_blocks) {
  QuantKernelConfig c = config(QuantKernelKind::kGroupRuns, input, true, threads, run);
  c.group = group;
  c.rows_fastest = rows_fastest;
  c.row_blocks = rows_fastest && row_blocks;
  return c;
}

inline QuantKernelConfig group_ragged(DType input, bool vector, int group, bool rows_fastest) {
  QuantKernelConfig c = config(QuantKernelKind::kGroupRagged, input, vector, 256, input == DType::kFloat32 ? 1 : 2);
  c.group = group;
  c.rows_fastest = rows_fastest;
  return c;
}

inline QuantKernelConfig one_launch(DType input, int cluster, int chunks) {
  QuantKernelConfig c = config(QuantKernelKind::kTensorOneLaunch, input, true, kOneLaunchThreads, chunks);
  c.cluster = cluster;
  return c;
}

inline QuantKernelConfig cast(DType input, bool vector, CastScaleKind kind, int group) {
  QuantKernelConfig c = config(QuantKernelKind::kCast, input, vector, kElementwiseThreads, kElementwiseChunks);
  c.cast = kind;
  c.group = kind == CastScaleKind::kGroup ? group : 0;
  return c;
}

inline QuantKernelConfig two_pass(DType input, bool vector, std::int64_t chunks_per_row) {
  const int threads = chunks_per_row <= kTwoPassNarrowThreads * kTwoPassChunks ? kTwoPassNarrowThreads : kTwoPassWideThreads;
  return config(QuantKernelKind::kTokenTwoPass, input, vector, threads, kTwoPassChunks);
}

}  // namespace fp8kit::ops::quant_family
