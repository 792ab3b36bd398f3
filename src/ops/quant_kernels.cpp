#include "ops/quant_kernels.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace fp8kit::ops {
namespace {

constexpr std::int64_t kBlockEdge = 128;

std::string_view dtype_tag(DType d) {
  switch (d) {
    case DType::kFloat32:
      return "f32";
    case DType::kFloat16:
      return "f16";
    case DType::kBFloat16:
      return "bf16";
    default:
      throw_invalid_argument(fmt::format("quantize: input dtype {} is not float, half or bfloat16", dtype_name(d)));
  }
}

std::string_view device_type(DType d) {
  switch (d) {
    case DType::kFloat32:
      return "fp8kit::InF32";
    case DType::kFloat16:
      return "fp8kit::InF16";
    default:
      return "fp8kit::InBF16";
  }
}

std::string_view vec_tag(bool vector) { return vector ? "v8" : "v1"; }
std::string_view bool_lit(bool b) { return b ? "true" : "false"; }

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

bool is_float_input(DType d) { return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16; }

// Token kernels by row length in chunks of 8: warp per row up to 1024 elements, block per row
// (256 threads, up to 8 chunks each) up to 16384, then the two-read loop.
struct TokenShape {
  QuantKernelKind kind;
  int threads;
  int vecs;
  std::int64_t max_chunks;
};
constexpr TokenShape kTokenShapes[] = {
    {QuantKernelKind::kTokenWarp, 256, 1, 32},    {QuantKernelKind::kTokenWarp, 256, 2, 64},
    {QuantKernelKind::kTokenWarp, 256, 4, 128},   {QuantKernelKind::kTokenBlock, 256, 2, 512},
    {QuantKernelKind::kTokenBlock, 256, 4, 1024}, {QuantKernelKind::kTokenBlock, 256, 8, 2048},
    {QuantKernelKind::kTokenLoop, 512, 4, std::numeric_limits<std::int64_t>::max()},
};
constexpr DType kInputs[] = {DType::kBFloat16, DType::kFloat16, DType::kFloat32};
constexpr int kGroups[] = {32, 64, 128};
constexpr int kElementwiseThreads = 256, kElementwiseUnroll = 4;

int group_unroll(DType input) { return input == DType::kFloat32 ? 1 : 2; }

// Second generation (whole chunks; cols % 8 == 0 and aligned rows). Token: a warp per row up to
// 128 chunks (1024 elements), then a block per row of at most kBlock2MaxThreads threads with
// block2_vecs() chunks each, then the first generation's two-read loop.
std::int64_t round_up32(std::int64_t a) { return (a + 31) / 32 * 32; }

constexpr int kWarp2Vecs[] = {1, 2, 4};
// A warp a row, 8 rows a block; with at most as many rows as SMs, one row a block, so that each
// row gets an SM of its own (small calls are latency, and an SM's share of the bytes adds to it:
// see kGroup2TinyThreads).
constexpr int kWarp2Threads = 256;
constexpr int kWarp2TinyThreads = 32;
constexpr int kBlock2MaxThreads = 512;
constexpr int kGroup2Threads = 256;

// Measured on an H200 (bf16, 4096x7168 and 8192x4096, two runs; % of the copy ceiling): 8 chunks
// per thread when that still gives at least 128 threads (7168: 95.1-97.4% at 8 x 128 threads
// against 93.2-93.4% at 4 x 224), else 4 (4096: 95.1-95.3% at 4 x 128 against 90.3-91.7% at 8 x 64
// and 85.6-86.2% at 2 x 256). With fewer rows than SMs, 4 where 512 threads hold the row
// (16x7168: 2.01 us against 2.13 at 8), and 2 where 512 threads hold the row at 2 (2026-11-22,
// A/B in one process: 16x4096 1.68 us against 1.76 at 4, 16x7168 1.99 against 2.01).
// fp32 chunks are twice as large: 4.
int block2_vecs(DType input, std::int64_t chunks, std::int64_t rows, int sm_count) {
  if (input == DType::kFloat32) return 4;
  const bool fits4 = round_up32(ceil_div(chunks, 4)) <= kBlock2MaxThreads;
  if (round_up32(ceil_div(chunks, 8)) >= 128 && (rows >= sm_count || !fits4)) return 8;
  if (rows < sm_count && round_up32(ceil_div(chunks, 2)) <= kBlock2MaxThreads) return 2;
  return 4;
}

// Groups per run, measured likewise: runs of 4 (row-major: 85.9-89.8% against 83.0-86.0% with 8;
// runs of 2 were slower on large shapes, 75-82%). A run needs at least as many lanes as groups
// (G = 32 has 4 lanes); fp32: 2. `small`: runs of 8 would give fewer blocks than SMs; then 2
// (2026-11-22, A/B in one process, M = 16, H = 4096 and 7168, G = 64 and 128, every layout:
// 1.70-1.77 us at 2 against 2.16-2.24 at 4 and 2.9-3.0 at 8; a per-token-like layout, a row per
// block with G / 8 lanes a group, gave 1.97-2.29 here and lost 2-6 points of copy at large M).
int group2_run(DType input, bool small) { return input == DType::kFloat32 || small ? 2 : 4; }

// Tiny grids, where runs of 1 in blocks of 128 threads still give at most one CTA an SM: that
// shape, up to 8x the CTAs on as many more SMs. Such a call is latency, and each SM's share of
// the loads and stores adds to it (session 4, H200, one process, programmatic launches, M = 1 and
// 16, H = 896 to 7168, G = 64 and 128, every layout: 0.93-1.08 us against 1.09-1.27 us with runs
// of 2 in 256 threads; 64 threads, or 256 with runs of 1, within 0.04 us of it; 512 and 1024
// threads a block 0.1-0.8 us slower than 256). A second call, M = 1 to 128: the 90 configurations
// this rule takes were 1.04-1.2x faster (geomean 1.10x); with more CTAs than SMs (M = 64 x 7168,
// 128 x 4096) runs of 1 were up to 11% slower, so those keep runs of 2.
constexpr int kGroup2TinyThreads = 128;

// Column-major scales, G >= 64: blocks walk a block of rows across the row before the next rows
// (session 4, H200, bf16, one process, µs of rows-fastest runs of 8 -> row blocks with runs of 4:
// 8192 x 7168 49.2 -> 46.9 (G = 128) and 50.4 -> 47.3 (G = 64); 8192 x 4096 27.5 -> 26.7 and
// 28.4 -> 27.1; 4096 x 7168 22.7 -> 22.1 and 23.6 -> 22.3). The column order had the blocks in
// flight read one segment from each of up to 10k rows. G = 32 is unmeasured and keeps it; small
// grids too (a row block of M = 1 would leave most of a block idle).
bool group2_row_blocks(int group, bool rows_fastest, bool small) { return rows_fastest && group >= 64 && !small; }

QuantKernelConfig group2_config(DType input, int group, bool rows_fastest, int run, int threads, bool row_blocks = false) {
  QuantKernelConfig c{QuantKernelKind::kGroup2, input, true, threads, run};
  c.group = group;
  c.rows_fastest = rows_fastest;
  c.row_blocks = rows_fastest && row_blocks;
  return c;
}


// Dynamic per-tensor in one launch while x fits the registers of one cluster: kSingleThreads
// threads a CTA, 1, 2 or 4 chunks each (the fewest that fit: more threads, less serial work),
// one CTA up to kSingleThreads * 4 chunks, else a cluster of kSingleCluster.
constexpr int kSingleThreads = 512;
constexpr int kSingleCluster = 8;
constexpr int kSingleVecs[] = {1, 2, 4};

QuantKernelConfig tensor_single_config(DType input, int cluster, int vecs) {
  QuantKernelConfig c{QuantKernelKind::kTensorSingle, input, true, kSingleThreads, vecs};
  c.cluster = cluster;
  return c;
}

QuantKernelConfig token_config(DType input, bool vector, std::int64_t chunks) {
  for (const TokenShape& s : kTokenShapes) {
    if (chunks <= s.max_chunks) return {s.kind, input, vector, s.threads, s.vecs};
  }
  return {};  // unreachable: the last shape takes any length
}

QuantKernelConfig group_config(DType input, bool vector, int group, bool rows_fastest) {
  QuantKernelConfig c{QuantKernelKind::kGroup, input, vector, 256, group_unroll(input)};
  c.group = group;
  c.rows_fastest = rows_fastest;
  return c;
}

QuantKernelConfig cast_config(DType input, bool vector, CastScaleKind cast, int group) {
  QuantKernelConfig c{QuantKernelKind::kCast, input, vector, kElementwiseThreads, kElementwiseUnroll};
  c.cast = cast;
  c.group = cast == CastScaleKind::kGroup ? group : 0;
  return c;
}

std::string params_asserts() {
  return "static_assert(sizeof(fp8kit::QuantParams) == 104, \"QuantParams differs from the host's\");\n";
}

}  // namespace

std::uint64_t QuantKernelConfig::key() const {
  std::uint64_t k = static_cast<std::uint64_t>(kind);
  k = k << 4 | static_cast<std::uint64_t>(input);
  k = k << 1 | (vector ? 1u : 0u);
  k = k << 11 | static_cast<std::uint64_t>(threads);
  k = k << 5 | static_cast<std::uint64_t>(vecs);
  k = k << 8 | static_cast<std::uint64_t>(group);
  k = k << 1 | (rows_fastest ? 1u : 0u);
  k = k << 1 | (row_blocks ? 1u : 0u);
  k = k << 3 | static_cast<std::uint64_t>(cast);
  k = k << 1 | (block_cells ? 1u : 0u);
  k = k << 4 | static_cast<std::uint64_t>(cluster);
  return k;
}

std::string kernel_name(const QuantKernelConfig& c) {
  const std::string_view dt = dtype_tag(c.input);
  switch (c.kind) {
    case QuantKernelKind::kTokenWarp:
      return fmt::format("quant_token_warp_{}_{}_t{}_c{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kTokenBlock:
      return fmt::format("quant_token_block_{}_{}_t{}_c{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kTokenLoop:
      return fmt::format("quant_token_loop_{}_{}_t{}_u{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kGroup:
      return fmt::format("quant_group{}_{}_{}_{}_t{}_u{}", c.group, dt, c.rows_fastest ? "rowsfast" : "groupsfast",
                         vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kTokenWarp2:
      return fmt::format("quant_token_warp2_{}_{}_t{}_c{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kTokenBlock2:
      return fmt::format("quant_token_block2_{}_{}_t{}_c{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kGroup2:
      return fmt::format("quant_group{}_{}_{}_{}_t{}_run{}", c.group, dt,
                         c.row_blocks ? "rowblocks" : c.rows_fastest ? "rowsfast" : "groupsfast", vec_tag(c.vector),
                         c.threads, c.vecs);
    case QuantKernelKind::kTensorSingle:
      return fmt::format("quant_tensor_single_{}_{}_t{}_c{}_k{}", dt, vec_tag(c.vector), c.threads, c.vecs, c.cluster);
    case QuantKernelKind::kTensorAmax:
      return fmt::format("quant_tensor_amax_{}_{}_t{}_u{}", dt, vec_tag(c.vector), c.threads, c.vecs);
    case QuantKernelKind::kCast: {
      const std::string scale = c.cast == CastScaleKind::kTensor                 ? "tensor"
                                : c.cast == CastScaleKind::kTensorDynamic        ? "tensordyn"
                                : c.cast == CastScaleKind::kTensorDynamicReverse ? "tensordynrev"
                                : c.cast == CastScaleKind::kRow           ? "row"
                                                                          : fmt::format("group{}", c.group);
      return fmt::format("quant_cast_{}_{}_{}_t{}_u{}", scale, dt, vec_tag(c.vector), c.threads, c.vecs);
    }
    case QuantKernelKind::kBlock128:
      return fmt::format("quant_block128_{}_{}_t{}", dt, vec_tag(c.vector), c.threads);
    case QuantKernelKind::kNaiveAmax:
      return fmt::format("quant_naive_amax_{}_{}_t{}", dt, c.block_cells ? "blockcell" : "warpcell", c.threads);
    case QuantKernelKind::kNaiveScale:
      return fmt::format("quant_naive_scale_t{}", c.threads);
    case QuantKernelKind::kNaiveCast:
      return fmt::format("quant_naive_cast_{}_t{}", dt, c.threads);
    case QuantKernelKind::kCopyBlockScales:
      return fmt::format("quant_copy_block_scales_t{}", c.threads);
  }
  throw_invalid_argument("kernel_name: unknown quantization kernel kind");
}

namespace {

// "threads" or "threads, min blocks per SM": kGroup2 with G >= 64 asks for 5 blocks of 256
// threads per SM (at most 48 registers) up to runs of 4 (bf16 took 47-51 registers left alone;
// G = 32 spills under that bound and is left alone; G = 64 spilled at 40 registers, 128 threads
// x 12 blocks).
std::string launch_bounds(const QuantKernelConfig& c) {
  if (c.kind == QuantKernelKind::kGroup2 && c.group >= 64 && c.vecs <= 4) return fmt::format("{}, {}", c.threads, 1280 / c.threads);
  return std::to_string(c.threads);
}

}  // namespace

jit::KernelSource quant_kernel_source(const QuantKernelConfig& c) {
  const std::string_view in = device_type(c.input);
  std::string header, call;
  switch (c.kind) {
    case QuantKernelKind::kTokenWarp:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_row_warp<{}, {}, {}, {}>(p)", in, c.threads, c.vecs, bool_lit(c.vector));
      break;
    case QuantKernelKind::kTokenBlock:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_row_block<{}, {}, {}, {}>(p)", in, c.threads, c.vecs, bool_lit(c.vector));
      break;
    case QuantKernelKind::kTokenLoop:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_row_loop<{}, {}, {}, {}>(p)", in, c.threads, c.vecs, bool_lit(c.vector));
      break;
    case QuantKernelKind::kGroup:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_group<{}, {}, {}, {}, {}, {}>(p)", in, c.group, bool_lit(c.rows_fastest),
                         c.threads, c.vecs, bool_lit(c.vector));
      break;
    case QuantKernelKind::kTokenWarp2:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_row_warp2<{}, {}, {}>(p)", in, c.threads, c.vecs);
      break;
    case QuantKernelKind::kTokenBlock2:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_row_block2<{}, {}, {}>(p)", in, c.threads, c.vecs);
      break;
    case QuantKernelKind::kGroup2:
      header = "fp8kit/quant/row_quant.cuh";
      call = fmt::format("fp8kit::quant_group2<{}, {}, {}, {}, {}, {}>(p)", in, c.group, bool_lit(c.rows_fastest),
                         c.threads, c.vecs, bool_lit(c.row_blocks));
      break;
    case QuantKernelKind::kTensorSingle:
      header = "fp8kit/quant/tensor_quant.cuh";
      call = fmt::format("fp8kit::tensor_quant_single<{}, {}, {}, {}>(p)", in, c.cluster, c.vecs, c.threads);
      break;
    case QuantKernelKind::kTensorAmax:
      header = "fp8kit/quant/tensor_quant.cuh";
      call = fmt::format("fp8kit::tensor_amax<{}, {}, {}, {}>(p)", in, c.threads, c.vecs, bool_lit(c.vector));
      break;
    case QuantKernelKind::kCast: {
      header = "fp8kit/quant/tensor_quant.cuh";
      const std::string_view kind = c.cast == CastScaleKind::kTensor                 ? "kTensor"
                                    : c.cast == CastScaleKind::kTensorDynamic        ? "kTensorDynamic"
                                    : c.cast == CastScaleKind::kTensorDynamicReverse ? "kTensorDynamicReverse"
                                    : c.cast == CastScaleKind::kRow           ? "kRow"
                                                                              : "kGroup";
      call = fmt::format("fp8kit::scaled_cast<{}, fp8kit::CastScale::{}, {}, {}, {}, {}>(p)", in, kind, c.group,
                         c.threads, c.vecs, bool_lit(c.vector));
      break;
    }
    case QuantKernelKind::kBlock128:
      header = "fp8kit/quant/block_quant.cuh";
      call = fmt::format("fp8kit::quant_block128<{}, {}>(p)", in, bool_lit(c.vector));
      break;
    case QuantKernelKind::kNaiveAmax:
      header = "fp8kit/quant/naive_quant.cuh";
      call = fmt::format("fp8kit::naive_amax<{}, {}, {}>(p)", in, c.threads, c.block_cells ? c.threads : 32);
      break;
    case QuantKernelKind::kNaiveScale:
      header = "fp8kit/quant/naive_quant.cuh";
      call = "fp8kit::naive_scale(p)";
      break;
    case QuantKernelKind::kNaiveCast:
      header = "fp8kit/quant/naive_quant.cuh";
      call = fmt::format("fp8kit::naive_cast<{}>(p)", in);
      break;
    case QuantKernelKind::kCopyBlockScales:
      header = "fp8kit/quant/block_quant.cuh";
      call = "fp8kit::copy_block_scales(p)";
      break;
  }
  jit::KernelSource s;
  s.name = kernel_name(c);
  s.source = fmt::format(
      "// generated: {0}\n"
      "#include <fp8kit/common/pdl.cuh>\n"
      "#include <{1}>\n"
      "{2}"
      "extern \"C\" __global__ void __launch_bounds__({3}) {5}fp8kit_entry(const __grid_constant__ fp8kit::QuantParams p) {{\n"
      "  fp8kit::wait_prior_grid_and_release_next();  // programmatic launch: before any global access\n"
      "  {4};\n"
      "}}\n",
      s.name, header, params_asserts(), launch_bounds(c), call,
      c.cluster > 1 ? fmt::format("__cluster_dims__({}, 1, 1) ", c.cluster) : std::string());
  return s;
}

std::vector<QuantKernelConfig> all_quant_kernel_configs() {
  std::vector<QuantKernelConfig> all;
  for (DType in : kInputs) {
    for (bool vector : {true, false}) {
      for (const TokenShape& s : kTokenShapes) all.push_back({s.kind, in, vector, s.threads, s.vecs});
      for (int g : kGroups) {
        for (bool rows_fastest : {false, true}) all.push_back(group_config(in, vector, g, rows_fastest));
      }
      all.push_back({QuantKernelKind::kTensorAmax, in, vector, kElementwiseThreads, kElementwiseUnroll});
      all.push_back(cast_config(in, vector, CastScaleKind::kTensor, 0));
      all.push_back(cast_config(in, vector, CastScaleKind::kTensorDynamic, 0));
      all.push_back(cast_config(in, vector, CastScaleKind::kTensorDynamicReverse, 0));
      all.push_back(cast_config(in, vector, CastScaleKind::kRow, 0));
      for (int g : kGroups) all.push_back(cast_config(in, vector, CastScaleKind::kGroup, g));
      all.push_back({QuantKernelKind::kBlock128, in, vector, 256, 1});
    }
    // The heuristic's picks; for bf16 also the alternatives QuantTuning may ask for (benchmarks).
    for (int v : kWarp2Vecs) {
      for (int threads : {kWarp2Threads, kWarp2TinyThreads}) all.push_back({QuantKernelKind::kTokenWarp2, in, true, threads, v});
    }
    for (int v : {2, 4, 8}) {
      if ((v == 2 && in == DType::kFloat32) || (v == 8 && in == DType::kFloat32)) continue;
      all.push_back({QuantKernelKind::kTokenBlock2, in, true, kBlock2MaxThreads, v});
    }
    for (int g : kGroups) {
      for (bool rows_fastest : {false, true}) {
        for (int run : {2, 4, 8}) {
          for (bool row_blocks : {false, true}) {
            if (row_blocks && !rows_fastest) continue;
            bool pick = false;
            for (bool small : {false, true}) {
              pick = pick || (run == group2_run(in, small) && row_blocks == group2_row_blocks(g, rows_fastest, small));
            }
            if (pick || (in == DType::kBFloat16 && g >= 64)) {
              all.push_back(group2_config(in, g, rows_fastest, run, kGroup2Threads, row_blocks));
            }
          }
        }
        all.push_back(group2_config(in, g, rows_fastest, 1, kGroup2TinyThreads));  // tiny grids
      }
    }
    // Third generation: dynamic per-tensor in one launch.
    for (int cluster : {1, kSingleCluster}) {
      for (int v : kSingleVecs) all.push_back(tensor_single_config(in, cluster, v));
    }
    for (bool block_cells : {false, true}) {
      QuantKernelConfig c{QuantKernelKind::kNaiveAmax, in, false, 256, 1};
      c.block_cells = block_cells;
      all.push_back(c);
    }
    all.push_back({QuantKernelKind::kNaiveCast, in, false, 256, 1});
  }
  all.push_back({QuantKernelKind::kNaiveScale, DType::kFloat32, false, 256, 1});
  all.push_back({QuantKernelKind::kCopyBlockScales, DType::kFloat32, false, 256, 1});
  return all;
}

namespace {
// QuantTuning may name only enumerated kernels (checked only when it names one).
bool listed(const QuantKernelConfig& c) {
  const std::vector<QuantKernelConfig> all = all_quant_kernel_configs();
  return std::find(all.begin(), all.end(), c) != all.end();
}
}  // namespace

QuantPlan plan_quantize(const QuantProblem& pr, int sm_count) {
  const QuantSpec& spec = pr.spec;
  const ScaleGeometry geo = scale_geometry(spec, pr.rows, pr.cols);
  const std::int64_t in_bytes = static_cast<std::int64_t>(dtype_size(pr.input));
  // The 16-byte path needs every row start aligned: the base and the row stride.
  const bool vector = pr.x_aligned16 && pr.q_aligned8 &&
                      (pr.rows <= 1 || ((pr.x_ld * in_bytes) % 16 == 0 && pr.q_ld % 8 == 0));
  const bool dynamic = !spec.static_scales;
  // The second generation's kernels read whole 16-byte chunks only.
  const bool vector2 = vector && pr.cols % 8 == 0 && pr.tuning.generation >= 2;
  const bool gen3 = vector2 && pr.tuning.generation >= 3;

  QuantPlan plan;
  QuantParams& p = plan.params;
  p.x_ld = pr.x_ld;
  p.q_ld = pr.q_ld;
  p.s_rs = geo.row_stride;
  p.s_cs = geo.col_stride;
  p.rows = static_cast<int>(pr.rows);
  p.cols = static_cast<int>(pr.cols);
  p.scale_rows = static_cast<int>(geo.rows);
  p.scale_cols = static_cast<int>(geo.cols);
  p.scale_rows_pad = static_cast<int>(geo.rows);
  p.scale_cols_pad = static_cast<int>(geo.cols);
  if (spec.granularity == Granularity::kPerGroup && spec.layout == ScaleLayout::kColMajorTmaAligned) {
    p.scale_rows_pad = static_cast<int>(geo.col_stride);
  }
  if (spec.granularity == Granularity::kBlock128) p.scale_cols_pad = static_cast<int>(geo.row_stride);
  p.ue8m0 = spec.ue8m0 && dynamic ? 1 : 0;
  p.scale_ub = spec.scale_ub ? *spec.scale_ub : std::numeric_limits<float>::infinity();
  if (spec.granularity == Granularity::kPerTensor) p.s_rs = p.s_cs = 0;

  const std::int64_t chunks_per_row = ceil_div(pr.cols, 8);
  const auto elementwise_grid = [&](std::int64_t items) {
    const std::int64_t per_block = kElementwiseThreads * kElementwiseUnroll;
    return static_cast<unsigned>(std::clamp<std::int64_t>(ceil_div(items, per_block), 1, std::int64_t{sm_count} * 8));
  };
  auto add = [&](const QuantKernelConfig& config, std::int64_t grid_x, std::int64_t items, int atomic = 0,
                 std::int64_t grid_y = 1) {
    QuantLaunch& l = plan.launches[static_cast<std::size_t>(plan.launch_count++)];
    l.config = config;
    l.grid_x = static_cast<unsigned>(grid_x);
    l.grid_y = static_cast<unsigned>(grid_y);
    l.threads = static_cast<unsigned>(config.threads);
    l.items = static_cast<std::uint32_t>(items);
    l.atomic_amax = atomic;
  };

  if (pr.impl == QuantImpl::kNaive) {
    // Cells: (cell_rows x cell_cols) input elements per scale.
    switch (spec.granularity) {
      case Granularity::kPerTensor:
        p.cell_rows = 1;  // the amax kernel's cells are rows; s_rs = s_cs = 0 sends all to scales[0]
        p.cell_cols = p.cols;
        break;
      case Granularity::kPerToken:
      case Granularity::kPerChannel:
        p.cell_rows = 1;
        p.cell_cols = p.cols;
        break;
      case Granularity::kPerGroup:
        p.cell_rows = 1;
        p.cell_cols = spec.group_size;
        break;
      case Granularity::kBlock128:
        p.cell_rows = p.cell_cols = static_cast<int>(kBlockEdge);
        break;
    }
    if (dynamic) {
      const bool per_tensor = spec.granularity == Granularity::kPerTensor;
      const bool block = spec.granularity == Granularity::kBlock128;
      QuantKernelConfig amax{QuantKernelKind::kNaiveAmax, pr.input, false, 256, 1};
      amax.block_cells = block;
      if (per_tensor) {
        plan.zero_scale0 = true;
        // Cells are rows here: scale_cols = 1 for the amax kernel's cell indexing.
        add(amax, ceil_div(pr.rows, 8), pr.rows, 1);
      } else {
        const std::int64_t cells = geo.rows * geo.cols;
        add(amax, block ? cells : ceil_div(cells, 8), cells);
      }
      const std::int64_t entries = std::int64_t{p.scale_rows_pad} * p.scale_cols_pad;
      add({QuantKernelKind::kNaiveScale, DType::kFloat32, false, 256, 1}, ceil_div(entries, 256), entries);
    }
    add({QuantKernelKind::kNaiveCast, pr.input, false, 256, 1}, ceil_div(pr.rows * pr.cols, 256), pr.rows * pr.cols);
    return plan;
  }

  const std::int64_t chunk_items = pr.rows * chunks_per_row;
  if (!dynamic) {
    const CastScaleKind cast = spec.granularity == Granularity::kPerTensor  ? CastScaleKind::kTensor
                               : spec.granularity == Granularity::kPerToken ? CastScaleKind::kRow
                                                                            : CastScaleKind::kGroup;
    add(cast_config(pr.input, vector, cast, spec.group_size), elementwise_grid(chunk_items), chunk_items);
    return plan;
  }
  switch (spec.granularity) {
    case Granularity::kPerTensor: {
      if (gen3 && chunk_items <= std::int64_t{kSingleCluster} * kSingleThreads * 4) {
        const int cluster = chunk_items <= kSingleThreads * 4 ? 1 : kSingleCluster;
        int v = 4;
        for (int cand : kSingleVecs) {
          if (ceil_div(chunk_items, std::int64_t{cluster} * cand) <= kSingleThreads) {
            v = cand;
            break;
          }
        }
        add(tensor_single_config(pr.input, cluster, v), cluster, chunk_items);
        plan.launches[0].threads = static_cast<unsigned>(round_up32(ceil_div(chunk_items, std::int64_t{cluster} * v)));
        break;
      }
      plan.zero_scale0 = true;
      add({QuantKernelKind::kTensorAmax, pr.input, vector, kElementwiseThreads, kElementwiseUnroll},
          elementwise_grid(chunk_items), chunk_items);
      const CastScaleKind cast = gen3 ? CastScaleKind::kTensorDynamicReverse : CastScaleKind::kTensorDynamic;
      add(cast_config(pr.input, vector, cast, 0), elementwise_grid(chunk_items), chunk_items);
      break;
    }
    case Granularity::kPerToken:
    case Granularity::kPerChannel: {
      if (vector2 && chunks_per_row <= 32 * 4) {
        int v = 1;
        while (32 * v < chunks_per_row) v *= 2;
        const int threads = pr.rows <= sm_count ? kWarp2TinyThreads : kWarp2Threads;
        const QuantKernelConfig c{QuantKernelKind::kTokenWarp2, pr.input, true, threads, v};
        add(c, ceil_div(pr.rows, c.threads / 32), pr.rows);
        break;
      }
      if (vector2) {
        int v = block2_vecs(pr.input, chunks_per_row, pr.rows, sm_count);
        const int tv = pr.tuning.vecs;
        if (tv != 0 && tv != v && round_up32(ceil_div(chunks_per_row, tv)) <= kBlock2MaxThreads &&
            listed({QuantKernelKind::kTokenBlock2, pr.input, true, kBlock2MaxThreads, tv})) {
          v = tv;
        }
        const std::int64_t threads = round_up32(ceil_div(chunks_per_row, v));
        if (threads <= kBlock2MaxThreads) {
          add({QuantKernelKind::kTokenBlock2, pr.input, true, kBlock2MaxThreads, v}, pr.rows, pr.rows);
          plan.launches[0].threads = static_cast<unsigned>(threads);
          break;
        }
      }
      const QuantKernelConfig c = token_config(pr.input, vector, chunks_per_row);
      const std::int64_t grid = c.kind == QuantKernelKind::kTokenWarp ? ceil_div(pr.rows, c.threads / 32) : pr.rows;
      add(c, grid, pr.rows);
      break;
    }
    case Granularity::kPerGroup: {
      // Column-major scales: neighbouring lanes on neighbouring rows, so scale stores coalesce;
      // the row-block order (group2_row_blocks) restores row locality across blocks. Runs along
      // rows inside a block (row-major's order) measured 7-11% slower at 1x64 and 1-4% at 1x128
      // (2026-11-22, H200, 4096-8192 x 4096-7168, one call): the strided 4-byte stores cost more
      // than the row locality buys.
      const bool rows_fastest = spec.layout != ScaleLayout::kRowMajor;
      if (vector2) {
        const std::int64_t item_rows = rows_fastest ? p.scale_rows_pad : p.rows;
        const int lanes = spec.group_size / 8;
        const bool small = ceil_div(item_rows * ceil_div(geo.cols, 8), kGroup2Threads / lanes) < sm_count;
        const bool tiny = ceil_div(item_rows * geo.cols, kGroup2TinyThreads / lanes) <= sm_count;
        auto config = [&](int run, int threads, bool row_blocks) {
          return group2_config(pr.input, spec.group_size, rows_fastest, run, threads, row_blocks);
        };
        QuantKernelConfig c = tiny ? config(1, kGroup2TinyThreads, false)
                                   : config(group2_run(pr.input, small), kGroup2Threads,
                                            group2_row_blocks(spec.group_size, rows_fastest, small));
        // Tuning overrides (benchmarks, tests), each taken where the resulting kernel is listed;
        // a run other than 1 needs the regular block width.
        const QuantTuning& t = pr.tuning;
        for (int threads : {c.threads, kGroup2Threads}) {
          if (t.vecs != 0 && listed(config(t.vecs, threads, c.row_blocks))) {
            c = config(t.vecs, threads, c.row_blocks);
            break;
          }
        }
        if (t.row_blocks >= 0 && listed(config(c.vecs, c.threads, t.row_blocks == 1))) {
          c = config(c.vecs, c.threads, t.row_blocks == 1);
        }
        const std::int64_t slots = c.threads / lanes;
        const std::int64_t runs = ceil_div(geo.cols, c.vecs);
        const std::int64_t items = item_rows * runs;
        add(c, c.row_blocks ? ceil_div(item_rows, slots) * runs : ceil_div(items, slots), items);
        break;
      }
      const QuantKernelConfig c = group_config(pr.input, vector, spec.group_size, rows_fastest);
      const std::int64_t items = std::int64_t{rows_fastest ? p.scale_rows_pad : p.rows} * geo.cols;
      const std::int64_t per_block = std::int64_t{c.threads / (spec.group_size / 8)} * c.vecs;
      add(c, ceil_div(items, per_block), items);
      break;
    }
    case Granularity::kBlock128:
      add({QuantKernelKind::kBlock128, pr.input, vector, 256, 1}, geo.cols, geo.cols * geo.rows, 0, geo.rows);
      break;
  }
  return plan;
}

namespace {

void check_matrix(const TensorView& t, const char* arg) {
  if (t.rank != 2) {
    throw_invalid_argument(fmt::format("quantize: {} must be a matrix (rank 2), got {}", arg, t.describe()));
  }
  if (t.size(0) < 0 || t.size(1) < 0) {
    throw_invalid_argument(fmt::format("quantize: {} has a negative extent: {}", arg, t.describe()));
  }
  if (t.size(1) > 1 && t.stride(1) != 1) {
    throw_invalid_argument(fmt::format("quantize: {} must have unit column stride, got {}", arg, t.describe()));
  }
  if (t.size(0) > 1 && t.stride(0) < t.size(1)) {
    throw_invalid_argument(fmt::format("quantize: {} row stride {} is smaller than its {} columns (rows would overlap): {}",
                                       arg, t.stride(0), t.size(1), t.describe()));
  }
  if (t.numel() > 0 && t.data == nullptr) {
    throw_invalid_argument(fmt::format("quantize: {} is a null pointer for {}", arg, t.describe()));
  }
  if (reinterpret_cast<std::uintptr_t>(t.data) % dtype_size(t.dtype) != 0) {
    throw_invalid_argument(fmt::format("quantize: {} = {} is not aligned to its {}-byte elements", arg, t.data,
                                       dtype_size(t.dtype)));
  }
}

struct Span {
  std::uintptr_t begin, end;
};
Span span_of(const TensorView& t) {
  const auto b = reinterpret_cast<std::uintptr_t>(t.data);
  return {b, b + t.span_bytes()};
}
bool overlaps(Span a, Span b) { return a.begin < b.end && b.begin < a.end && a.begin != a.end && b.begin != b.end; }

}  // namespace

void check_quantize_args(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec) {
  if (!is_float_input(x.dtype)) {
    throw_invalid_argument(fmt::format("quantize: x dtype {} is not supported (float, half or bfloat16)", dtype_name(x.dtype)));
  }
  if (q.dtype != DType::kE4M3) {
    throw_invalid_argument(fmt::format("quantize: q dtype must be e4m3, got {}", dtype_name(q.dtype)));
  }
  if (scales.dtype != DType::kFloat32) {
    throw_invalid_argument(fmt::format("quantize: scales dtype must be float (fp32), got {}", dtype_name(scales.dtype)));
  }
  check_matrix(x, "x");
  check_matrix(q, "q");
  if (q.size(0) != x.size(0) || q.size(1) != x.size(1)) {
    throw_invalid_argument(fmt::format("quantize: q shape ({}, {}) differs from x shape ({}, {})", q.size(0), q.size(1),
                                       x.size(0), x.size(1)));
  }
  const std::int64_t rows = x.size(0), cols = x.size(1);
  if (rows > std::numeric_limits<int>::max() || cols > std::numeric_limits<int>::max() ||
      rows * cols > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
    throw_invalid_argument(fmt::format("quantize: x ({}, {}) is too large (at most 2^32 - 1 elements)", rows, cols));
  }
  const ScaleGeometry geo = scale_geometry(spec, rows, cols);  // validates the spec (K % G, ...)

  // The scale buffer: rank 1 (or 0 for per-tensor) holding alloc_elems, or the geometry's shape
  // and strides; every entry of the buffer, padding included, is written (dynamic specs).
  bool ok = false;
  if (scales.rank == 0) {
    ok = geo.alloc_elems == 1;
  } else if (scales.rank == 1) {
    ok = scales.size(0) == geo.alloc_elems && (scales.size(0) <= 1 || scales.stride(0) == 1);
  } else if (scales.rank == 2) {
    ok = scales.size(0) == geo.rows && scales.size(1) == geo.cols &&
         (geo.rows <= 1 || scales.stride(0) == geo.row_stride) && (geo.cols <= 1 || scales.stride(1) == geo.col_stride);
  }
  if (!ok) {
    throw_invalid_argument(fmt::format(
        "quantize: scales {} do not fit {} of a ({}, {}) input: it needs {} fp32 values as rank 1, or shape ({}, {}) "
        "with strides ({}, {})",
        scales.describe(), spec.describe(), rows, cols, geo.alloc_elems, geo.rows, geo.cols, geo.row_stride,
        geo.col_stride));
  }
  if (geo.alloc_elems > 0 && scales.data == nullptr && rows * cols > 0) {
    throw_invalid_argument("quantize: scales is a null pointer");
  }
  if (reinterpret_cast<std::uintptr_t>(scales.data) % 4 != 0) {
    throw_invalid_argument(fmt::format("quantize: scales = {} is not 4-byte aligned", scales.data));
  }
  if (rows * cols == 0) return;
  const Span sx = span_of(x), sq = span_of(q);
  const auto sb = reinterpret_cast<std::uintptr_t>(scales.data);
  const Span ss{sb, sb + static_cast<std::uintptr_t>(geo.alloc_elems) * 4};
  if (overlaps(sx, sq)) throw_invalid_argument("quantize: x and q overlap (in-place quantization is not supported)");
  if (overlaps(sx, ss)) throw_invalid_argument("quantize: x and scales overlap");
  if (overlaps(sq, ss)) throw_invalid_argument("quantize: q and scales overlap");
}

void check_block_scale_args(const TensorView& in, const TensorView& out) {
  if (in.dtype != DType::kFloat32 || out.dtype != DType::kFloat32) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales must be float (fp32), got {} and {}",
                                       dtype_name(in.dtype), dtype_name(out.dtype)));
  }
  if (in.rank != 2 || in.size(0) < 0 || in.size(1) < 0) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales_in must be a matrix (rank 2), got {}", in.describe()));
  }
  const std::int64_t rows = in.size(0), cols = in.size(1), ld = round_up(cols, 4);
  if (in.stride(0) < 0 || in.stride(1) < 0) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales_in has a negative stride: {}", in.describe()));
  }
  bool ok = false;
  if (out.rank == 1) ok = out.size(0) == rows * ld && (out.size(0) <= 1 || out.stride(0) == 1);
  if (out.rank == 2) ok = out.size(0) == rows && out.size(1) == ld && out.is_contiguous();
  if (!ok) {
    throw_invalid_argument(fmt::format(
        "prepare_block_scales: scales_out {} must hold ({}, {}) row-major fp32 (leading dimension round_up({}, 4))",
        out.describe(), rows, ld, cols));
  }
  if (rows * cols > std::int64_t{std::numeric_limits<int>::max()}) {
    throw_invalid_argument("prepare_block_scales: too many scales");
  }
  if (rows * cols > 0 && (in.data == nullptr || out.data == nullptr)) {
    throw_invalid_argument("prepare_block_scales: a null pointer");
  }
  if (reinterpret_cast<std::uintptr_t>(in.data) % 4 != 0 || reinterpret_cast<std::uintptr_t>(out.data) % 4 != 0) {
    throw_invalid_argument("prepare_block_scales: scales must be 4-byte aligned");
  }
  const Span a = span_of(in);
  const auto ob = reinterpret_cast<std::uintptr_t>(out.data);
  if (overlaps(a, Span{ob, ob + static_cast<std::uintptr_t>(rows * ld) * 4})) {
    throw_invalid_argument("prepare_block_scales: scales_in and scales_out overlap");
  }
}

}  // namespace fp8kit::ops

namespace fp8kit {

std::string_view quant_impl_name(QuantImpl impl) {
  switch (impl) {
    case QuantImpl::kFp8kit:
      return "fp8kit";
    case QuantImpl::kNaive:
      return "naive";
  }
  throw_invalid_argument(fmt::format("quant_impl_name: unknown value {}", static_cast<int>(impl)));
}

QuantImpl parse_quant_impl(std::string_view name) {
  if (name == "fp8kit") return QuantImpl::kFp8kit;
  if (name == "naive") return QuantImpl::kNaive;
  throw_invalid_argument(fmt::format("unknown quantization implementation '{}' (fp8kit or naive)", name));
}

}  // namespace fp8kit
