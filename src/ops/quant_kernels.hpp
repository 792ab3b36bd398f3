// The quantization kernels' configurations without CUDA: the family, and each member's name and
// generated source. The planner (ops/quant_plan.hpp) picks among them.
#pragma once

#include <cstdint>
#include <string>

#include "fp8kit/types.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::ops {

// Named by technique. "Whole chunks": the kernel reads 16-byte chunks only (cols % 8 == 0, rows
// 16-byte aligned) and issues every load before the first use; the others take any alignment.
enum class QuantKernelKind : std::uint8_t {
  kTokenWarp,        // per-token, whole chunks: a warp a row, the row in registers
  kTokenBlock,       // per-token, whole chunks: a block a row, the row in registers, width per row
  kTokenTwoPass,     // per-token, any row: a block a row, read twice (ragged, unaligned, or too long)
  kGroupRuns,        // per-group 1xG, whole chunks: G/8 lanes a group, a run of groups a lane set
  kGroupRagged,      // per-group 1xG, any alignment: G/8 lanes a group, one chunk a lane
  kTensorOneLaunch,  // dynamic per-tensor of a small tensor: one cluster holds it in registers
  kTensorAmax,       // dynamic per-tensor, pass 1: the amax, as a scale, by atomicMax
  kCast,             // q = x / s with given scales (static modes; dynamic per-tensor pass 2)
  kBlock128,         // 128x128 weight blocks, a CTA a block
  kNaiveAmax,        // the naive baseline (QuantImpl::kNaive), launch 1
  kNaiveScale,       // the naive baseline, launch 2
  kNaiveCast,        // the naive baseline, launch 3 (and its static path)
  kCopyBlockScales,  // prepare_block_scales
};

// Where kCast reads its scale; kTensorDynamic is pass 2 of dynamic per-tensor.
enum class CastScaleKind : std::uint8_t { kTensor, kRow, kGroup, kTensorDynamic };

// Every field that shapes code; kernel_name() spells all of them.
struct QuantKernelConfig {
  QuantKernelKind kind = QuantKernelKind::kTokenBlock;
  DType input = DType::kBFloat16;
  bool vector = true;          // 16-byte loads and 8-byte stores (false: scalar, any alignment)
  int threads = 256;           // threads a block (kTokenBlock, kTensorOneLaunch: the most a launch may use)
  int chunks = 1;              // chunks of 8 elements a thread holds in registers at once (kGroupRuns:
                               // the run, one chunk of each of its groups)
  int group = 0;               // G of the per-group kernels and of kCast's kGroup
  bool rows_fastest = false;   // per-group: neighbouring lanes take neighbouring rows (column-major scales)
  bool row_blocks = false;     // kGroupRuns, rows_fastest: consecutive blocks walk a block of rows
                               // across the row before the next rows
  CastScaleKind cast = CastScaleKind::kTensor;  // kCast
  bool block_cells = false;    // kNaiveAmax: a block (not a warp) per scale cell
  int cluster = 1;             // kTensorOneLaunch: CTAs a cluster (the whole grid)

  std::uint64_t key() const;  // a packed, unique integer of every field
  friend bool operator==(const QuantKernelConfig&, const QuantKernelConfig&) = default;
};

// "quant_group128_runs_rowblocks_bf16_vec_t256_c4": spells every field.
std::string kernel_name(const QuantKernelConfig& config);
jit::KernelSource quant_kernel_source(const QuantKernelConfig& config);

// Mirrors kernels/fp8kit/quant/quant_common.cuh's QuantParams (the generated source
// static_asserts the device side's size and offsets).
struct QuantParams {
  const void* x = nullptr;
  std::uint8_t* q = nullptr;
  float* scales = nullptr;
  std::int64_t x_ld = 0, q_ld = 0, s_rs = 0, s_cs = 0;
  int rows = 0, cols = 0;
  int scale_rows = 0, scale_cols = 0, scale_rows_pad = 0, scale_cols_pad = 0;
  int cell_rows = 1, cell_cols = 1;
  int ue8m0 = 0, atomic_amax = 0;
  float scale_ub = 0.0f;
  std::uint32_t items = 0;
};
static_assert(sizeof(QuantParams) == 104, "QuantParams must match the device struct");

}  // namespace fp8kit::ops
