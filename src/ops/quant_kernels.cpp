// The quantization kernels' names and generated sources, and the list of every configuration the
// planner can pick.
#include "ops/quant_kernels.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "ops/quant_family.hpp"
#include "ops/quant_plan.hpp"

namespace fp8kit::ops {
namespace {

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

std::string_view bool_lit(bool b) { return b ? "true" : "false"; }

std::string_view work_order(const QuantKernelConfig& c) {
  return c.row_blocks ? "rowblocks" : c.rows_fastest ? "rowsfast" : "groupsfast";
}

// kCast's scale kinds: the tag in kernel names and the device's CastScale enumerator.
struct CastScaleNames {
  CastScaleKind kind;
  std::string_view tag, device_enum;
};
constexpr CastScaleNames kCastScales[] = {{CastScaleKind::kTensor, "tensor", "kTensor"},
                                          {CastScaleKind::kRow, "row", "kRow"},
                                          {CastScaleKind::kGroup, "group", "kGroup"},
                                          {CastScaleKind::kTensorDynamic, "tensordyn", "kTensorDynamic"}};

const CastScaleNames& cast_names(CastScaleKind k) {
  for (const CastScaleNames& n : kCastScales) {
    if (n.kind == k) return n;
  }
  throw_invalid_argument("quantization kernel: unknown cast scale kind");
}

std::string cast_tag(const QuantKernelConfig& c) {
  const std::string_view tag = cast_names(c.cast).tag;
  return c.cast == CastScaleKind::kGroup ? fmt::format("{}{}", tag, c.group) : std::string(tag);
}

// The kernel's name without its shape fields: technique, then what it is specialized on.
std::string technique(const QuantKernelConfig& c) {
  switch (c.kind) {
    case QuantKernelKind::kTokenWarp:
      return "token_warp";
    case QuantKernelKind::kTokenBlock:
      return "token_block";
    case QuantKernelKind::kTokenTwoPass:
      return "token_two_pass";
    case QuantKernelKind::kGroupRuns:
      return fmt::format("group{}_runs_{}", c.group, work_order(c));
    case QuantKernelKind::kGroupRagged:
      return fmt::format("group{}_ragged_{}", c.group, work_order(c));
    case QuantKernelKind::kTensorOneLaunch:
      return "tensor_one_launch";
    case QuantKernelKind::kTensorAmax:
      return "tensor_amax";
    case QuantKernelKind::kCast:
      return "cast_" + cast_tag(c);
    case QuantKernelKind::kBlock128:
      return "block128";
    case QuantKernelKind::kNaiveAmax:
      return c.block_cells ? "naive_amax_blockcell" : "naive_amax_warpcell";
    case QuantKernelKind::kNaiveScale:
      return "naive_scale";
    case QuantKernelKind::kNaiveCast:
      return "naive_cast";
    case QuantKernelKind::kCopyBlockScales:
      return "copy_block_scales";
  }
  throw_invalid_argument("kernel_name: unknown quantization kernel kind");
}

struct DeviceCall {
  std::string_view header;
  std::string call;
};

DeviceCall device_call(const QuantKernelConfig& c) {
  const std::string_view in = device_type(c.input);
  const std::string_view v = bool_lit(c.vector);
  constexpr std::string_view row = "fp8kit/quant/row_quant.cuh", tensor = "fp8kit/quant/tensor_quant.cuh",
                             block = "fp8kit/quant/block_quant.cuh", naive = "fp8kit/quant/naive_quant.cuh";
  switch (c.kind) {
    case QuantKernelKind::kTokenWarp:
      return {row, fmt::format("fp8kit::quant_row_warp<{}, {}, {}>(p)", in, c.threads, c.chunks)};
    case QuantKernelKind::kTokenBlock:
      return {row, fmt::format("fp8kit::quant_row_block<{}, {}, {}>(p)", in, c.threads, c.chunks)};
    case QuantKernelKind::kTokenTwoPass:
      return {row, fmt::format("fp8kit::quant_row_two_pass<{}, {}, {}, {}>(p)", in, c.threads, c.chunks, v)};
    case QuantKernelKind::kGroupRuns:
      return {row, fmt::format("fp8kit::quant_group_runs<{}, {}, {}, {}, {}, {}>(p)", in, c.group,
                               bool_lit(c.rows_fastest), c.threads, c.chunks, bool_lit(c.row_blocks))};
    case QuantKernelKind::kGroupRagged:
      return {row, fmt::format("fp8kit::quant_group_ragged<{}, {}, {}, {}, {}, {}>(p)", in, c.group,
                               bool_lit(c.rows_fastest), c.threads, c.chunks, v)};
    case QuantKernelKind::kTensorOneLaunch:
      return {tensor, fmt::format("fp8kit::tensor_quant_one_launch<{}, {}, {}, {}>(p)", in, c.cluster, c.chunks, c.threads)};
    case QuantKernelKind::kTensorAmax:
      return {tensor, fmt::format("fp8kit::tensor_amax<{}, {}, {}, {}>(p)", in, c.threads, c.chunks, v)};
    case QuantKernelKind::kCast:
      return {tensor, fmt::format("fp8kit::scaled_cast<{}, fp8kit::CastScale::{}, {}, {}, {}, {}>(p)", in,
                                  cast_names(c.cast).device_enum, c.group, c.threads, c.chunks, v)};
    case QuantKernelKind::kBlock128:
      return {block, fmt::format("fp8kit::quant_block128<{}, {}>(p)", in, v)};
    case QuantKernelKind::kNaiveAmax:
      return {naive, fmt::format("fp8kit::naive_amax<{}, {}, {}>(p)", in, c.threads, c.block_cells ? c.threads : 32)};
    case QuantKernelKind::kNaiveScale:
      return {naive, "fp8kit::naive_scale(p)"};
    case QuantKernelKind::kNaiveCast:
      return {naive, fmt::format("fp8kit::naive_cast<{}>(p)", in)};
    case QuantKernelKind::kCopyBlockScales:
      return {block, "fp8kit::copy_block_scales(p)"};
  }
  throw_invalid_argument("quant_kernel_source: unknown quantization kernel kind");
}

// "threads" or "threads, min blocks per SM": kGroupRuns with G >= 64 asks for 5 blocks of 256
// threads per SM (at most 48 registers) up to runs of 4 (bf16 took 47-51 registers left alone;
// G = 32 spills under that bound and is left alone; G = 64 spilled at 40 registers, 128 threads
// x 12 blocks).
std::string launch_bounds(const QuantKernelConfig& c) {
  if (c.kind == QuantKernelKind::kGroupRuns && c.group >= 64 && c.chunks <= 4) {
    return fmt::format("{}, {}", c.threads, 1280 / c.threads);
  }
  return std::to_string(c.threads);
}

}  // namespace

std::uint64_t QuantKernelConfig::key() const {
  std::uint64_t k = static_cast<std::uint64_t>(kind);
  k = k << 4 | static_cast<std::uint64_t>(input);
  k = k << 1 | (vector ? 1u : 0u);
  k = k << 11 | static_cast<std::uint64_t>(threads);
  k = k << 5 | static_cast<std::uint64_t>(chunks);
  k = k << 8 | static_cast<std::uint64_t>(group);
  k = k << 1 | (rows_fastest ? 1u : 0u);
  k = k << 1 | (row_blocks ? 1u : 0u);
  k = k << 3 | static_cast<std::uint64_t>(cast);
  k = k << 1 | (block_cells ? 1u : 0u);
  k = k << 4 | static_cast<std::uint64_t>(cluster);
  return k;
}

std::string kernel_name(const QuantKernelConfig& c) {
  const std::string name = "quant_" + technique(c);
  switch (c.kind) {
    case QuantKernelKind::kNaiveScale:
    case QuantKernelKind::kCopyBlockScales:
      return fmt::format("{}_t{}", name, c.threads);
    case QuantKernelKind::kNaiveAmax:
    case QuantKernelKind::kNaiveCast:
      return fmt::format("{}_{}_t{}", name, dtype_tag(c.input), c.threads);
    case QuantKernelKind::kBlock128:
      return fmt::format("{}_{}_{}_t{}", name, dtype_tag(c.input), c.vector ? "vec" : "scalar", c.threads);
    default: {
      const std::string cluster = c.cluster > 1 || c.kind == QuantKernelKind::kTensorOneLaunch
                                      ? fmt::format("_k{}", c.cluster) : std::string();
      return fmt::format("{}_{}_{}_t{}_c{}{}", name, dtype_tag(c.input), c.vector ? "vec" : "scalar", c.threads, c.chunks,
                         cluster);
    }
  }
}

jit::KernelSource quant_kernel_source(const QuantKernelConfig& c) {
  const DeviceCall d = device_call(c);
  jit::KernelSource s;
  s.name = kernel_name(c);
  s.source = fmt::format(
      "// generated: {0}\n"
      "#include <fp8kit/common/pdl.cuh>\n"
      "#include <{1}>\n"
      "static_assert(sizeof(fp8kit::QuantParams) == 104, \"QuantParams differs from the host's\");\n"
      "extern \"C\" __global__ void __launch_bounds__({2}) {4}fp8kit_entry(const __grid_constant__ fp8kit::QuantParams p) {{\n"
      "  fp8kit::wait_prior_grid_and_release_next();  // programmatic launch: before any global access\n"
      "  {3};\n"
      "}}\n",
      s.name, d.header, launch_bounds(c), d.call,
      c.cluster > 1 ? fmt::format("__cluster_dims__({}, 1, 1) ", c.cluster) : std::string());
  return s;
}

namespace {

using namespace quant_family;

void add_unique(std::vector<QuantKernelConfig>& all, const QuantKernelConfig& c) {
  if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
}

// The kernels of one input dtype and load width that any alignment may take.
void list_any_alignment(std::vector<QuantKernelConfig>& all, DType in, bool vector) {
  for (int threads : {kTwoPassNarrowThreads, kTwoPassWideThreads}) {
    add_unique(all, config(QuantKernelKind::kTokenTwoPass, in, vector, threads, kTwoPassChunks));
  }
  // Per-group shapes have cols % 8 == 0, so only unaligned rows (scalar loads) miss the whole-chunk path.
  for (int g : kGroups) {
    for (bool rows_fastest : {false, true}) {
      if (!vector) add_unique(all, group_ragged(in, vector, g, rows_fastest));
    }
  }
  add_unique(all, config(QuantKernelKind::kTensorAmax, in, vector, kElementwiseThreads, kElementwiseChunks));
  for (CastScaleKind k : {CastScaleKind::kTensor, CastScaleKind::kTensorDynamic, CastScaleKind::kRow}) {
    add_unique(all, cast(in, vector, k, 0));
  }
  for (int g : kGroups) add_unique(all, cast(in, vector, CastScaleKind::kGroup, g));
  add_unique(all, config(QuantKernelKind::kBlock128, in, vector, 256, 1));
}

// The whole-chunk kernels of one input dtype.
void list_whole_chunks(std::vector<QuantKernelConfig>& all, DType in) {
  for (int chunks : {1, 2, 4}) {
    for (int threads : {kWarpThreads, kWarpTinyThreads}) add_unique(all, config(QuantKernelKind::kTokenWarp, in, true, threads, chunks));
  }
  for (int chunks : {2, 4, 8}) {
    if (in != DType::kFloat32 || chunks == 4) {
      add_unique(all, config(QuantKernelKind::kTokenBlock, in, true, kTokenBlockMaxThreads, chunks));
    }
  }
  for (int g : kGroups) {
    for (bool rf : {false, true}) {
      for (bool small : {false, true}) {
        add_unique(all, group_runs(in, g, rf, group_run(in, small), kGroupThreads, group_row_blocks(g, rf, small)));
      }
      add_unique(all, group_runs(in, g, rf, 1, kGroupTinyThreads, false));
    }
  }
  for (int cluster : {1, kOneLaunchCluster}) {
    for (int chunks : kOneLaunchChunks) add_unique(all, one_launch(in, cluster, chunks));
  }
}

}  // namespace

std::vector<QuantKernelConfig> all_quant_kernel_configs() {
  std::vector<QuantKernelConfig> all;
  for (DType in : kInputs) {
    for (bool vector : {true, false}) list_any_alignment(all, in, vector);
    list_whole_chunks(all, in);
    for (bool block_cells : {false, true}) {
      QuantKernelConfig c = config(QuantKernelKind::kNaiveAmax, in, false, 256, 1);
      c.block_cells = block_cells;
      all.push_back(c);
    }
    all.push_back(config(QuantKernelKind::kNaiveCast, in, false, 256, 1));
  }
  all.push_back(config(QuantKernelKind::kNaiveScale, DType::kFloat32, false, 256, 1));
  all.push_back(config(QuantKernelKind::kCopyBlockScales, DType::kFloat32, false, 256, 1));
  return all;
}

}  // namespace fp8kit::ops
