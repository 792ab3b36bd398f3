// The quantization kernels' host side without CUDA: kernel configurations and their names, the
// generated sources, the argument checks that need no GPU, and the heuristic that turns a call
// into at most three launches. src/ops/quantize.cpp adds the device checks and launches the plan.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::ops {

enum class QuantKernelKind : std::uint8_t {
  kTokenWarp,   // per-token, a warp per row, row in registers
  kTokenBlock,  // per-token, a block per row, row in registers
  kTokenLoop,   // per-token, a block per row, two reads (rows too long for registers)
  kGroup,       // per-group 1xG, G/8 lanes per group
  kTokenWarp2,  // second generation (whole chunks, loads issued before use): a warp per row
  kTokenBlock2, // second generation: a block per row, launch width picked per row length
  kGroup2,      // second generation: per-group, a run of `vecs` groups per set of G/8 lanes
  kTensorSingle,  // third generation: dynamic per-tensor of a small tensor in one launch (a cluster)
  kTensorAmax,  // dynamic per-tensor pass 1
  kCast,        // q = x / s with given scales (static modes, per-tensor pass 2)
  kBlock128,    // 128x128 weight blocks, a CTA per block
  kNaiveAmax,   // naive baseline, launch 1
  kNaiveScale,  // naive baseline, launch 2
  kNaiveCast,   // naive baseline, launch 3 (and the naive static path)
  kCopyBlockScales,  // prepare_block_scales
};

enum class CastScaleKind : std::uint8_t { kTensor, kRow, kGroup, kTensorDynamic, kTensorDynamicReverse };

// Every field that shapes code; kernel_name() spells all of them.
struct QuantKernelConfig {
  QuantKernelKind kind = QuantKernelKind::kTokenBlock;
  DType input = DType::kBFloat16;
  bool vector = true;         // 16-byte loads and 8-byte stores (false: scalar, any alignment)
  int threads = 256;          // threads per block (kTokenBlock2: the most a launch may use)
  int vecs = 1;               // chunks of 8 elements per thread (token kernels), unroll depth, kGroup2: run
  int group = 0;              // kGroup and kCast/kGroup: G
  bool rows_fastest = false;  // kGroup: neighbouring lanes take neighbouring rows (col-major scales)
  bool row_blocks = false;    // kGroup2 with rows_fastest: consecutive blocks walk a block of rows
                              // across the row before the next rows
  CastScaleKind cast = CastScaleKind::kTensor;  // kCast
  bool block_cells = false;   // kNaiveAmax: a block (not a warp) per scale cell
  int cluster = 1;            // kTensorSingle: CTAs per cluster (the whole grid)

  std::uint64_t key() const;  // a packed, unique integer of every field
  friend bool operator==(const QuantKernelConfig&, const QuantKernelConfig&) = default;
};

// "quant_group128_bf16_rowsfast_v8_t256_u2": spells every field.
std::string kernel_name(const QuantKernelConfig& config);
jit::KernelSource quant_kernel_source(const QuantKernelConfig& config);
// Every configuration plan_quantize can pick (no duplicates, stable order).
std::vector<QuantKernelConfig> all_quant_kernel_configs();

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

struct QuantLaunch {
  QuantKernelConfig config;
  unsigned grid_x = 1, grid_y = 1;
  unsigned threads = 256;
  std::uint32_t items = 0;
  int atomic_amax = 0;
};

// What one quantize call enqueues: an optional 4-byte zeroing of scales[0], then 1..3 launches.
struct QuantPlan {
  bool zero_scale0 = false;
  int launch_count = 0;
  std::array<QuantLaunch, 3> launches{};
  QuantParams params;  // pointers filled by the caller; items/atomic_amax per launch
};

// Overrides of the heuristic, for benchmarks and tests (0 = the heuristic's choice).
struct QuantTuning {
  int generation = 3;  // 1: the first kernels only (the in-tool baseline); 2: the second, without
                       // the third's one-launch (small) and reversed-cast (large) per-tensor
  int vecs = 0;        // kTokenBlock2: chunks per thread; kGroup2: groups per run. Only
                       // a kernel all_quant_kernel_configs() lists is taken (bf16: 2, 4, 8), else ignored.
  int row_blocks = -1; // kGroup2 with column-major scales: 0 or 1 sets QuantKernelConfig::row_blocks
                       // (bf16, G >= 64 only; elsewhere ignored)
};

// A quantize call reduced to what the heuristic needs (no pointers, only their alignment).
struct QuantProblem {
  DType input = DType::kBFloat16;
  std::int64_t rows = 0, cols = 0;
  std::int64_t x_ld = 0, q_ld = 0;  // row strides (elements, bytes)
  bool x_aligned16 = true;          // x's base address is 16-byte aligned
  bool q_aligned8 = true;           // q's base address is 8-byte aligned
  QuantSpec spec;
  QuantImpl impl = QuantImpl::kFp8kit;
  QuantTuning tuning;
};

// The heuristic: kernels, grids and parameters for a problem on a GPU with sm_count SMs.
// rows * cols must be > 0 (an empty input launches nothing).
QuantPlan plan_quantize(const QuantProblem& problem, int sm_count);

// The checks of fp8kit::quantize that need no GPU: dtypes, ranks, shapes, strides, the scale
// buffer against scale_geometry, null and overlapping buffers, element alignment. Throws
// fp8kit::Error(kInvalidArgument) naming the argument and the rule.
void check_quantize_args(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec);
// The same for prepare_block_scales.
void check_block_scale_args(const TensorView& in, const TensorView& out);

}  // namespace fp8kit::ops
