// The quantization planner: a quantize call, reduced to what the choice needs, becomes an
// optional zeroing of scales[0] and one to three kernel launches (one planner per granularity in
// quant_plan.cpp). src/ops/quantize.cpp checks the arguments, plans and launches.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"
#include "ops/quant_kernels.hpp"

namespace fp8kit::ops {

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

// A quantize call reduced to what the planner needs (no pointers, only their alignment).
struct QuantProblem {
  DType input = DType::kBFloat16;
  std::int64_t rows = 0, cols = 0;
  std::int64_t x_ld = 0, q_ld = 0;  // row strides (elements, bytes)
  bool x_aligned16 = true;          // x's base address is 16-byte aligned
  bool q_aligned8 = true;           // q's base address is 8-byte aligned
  QuantSpec spec;
  QuantImpl impl = QuantImpl::kFp8kit;
};

// Kernels, grids and parameters for a problem on a GPU with sm_count SMs. rows * cols must be
// > 0 (an empty input launches nothing). The SM count only decides between the kernels for
// grids that fill the GPU and those for grids that do not, so a test can plan a small problem
// with sm_count = 1 to run the large-problem kernels on it.
QuantPlan plan_quantize(const QuantProblem& problem, int sm_count);
// Every configuration plan_quantize can pick (no duplicates, stable order): what CI compiles.
std::vector<QuantKernelConfig> all_quant_kernel_configs();

// Enqueues a plan whose params carry the pointers (src/ops/quantize.cpp): the zeroing, then each
// launch, programmatic (PDL) or plain.
void launch_quant_plan(const QuantPlan& plan, cudaStream_t stream, bool programmatic);

}  // namespace fp8kit::ops
