// Generated JIT source of the reference scaled GEMM (one kernel per scale pair and out dtype) and
// the kernel-side spellings of the GEMM enums.
// Pure code generation: the CPU suite compiles every one under NVRTC without a GPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "fp8kit/gemm.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::ops {

// "ref_scaled_gemm_a-group128_b-block128_bf16"
jit::KernelSource reference_gemm_source(ScaleModeA mode_a, ScaleModeB mode_b, DType out);
// All 9 pairs x {fp32, fp16, bf16}.
std::vector<jit::KernelSource> reference_gemm_sources();

constexpr int kRefGemmTile = 16;  // mirrors kRefTile in kernels/fp8kit/ref/scaled_gemm.cuh

// Mirrors kernels/fp8kit/ref/scaled_gemm.cuh's RefGemmParams.
struct RefGemmParams {
  const void* a;
  const void* b;
  const float* scale_a;
  const float* scale_b;
  void* out;
  const void* bias;
  std::int64_t m, n, k;
  std::int64_t lda, ldb, ldd;
  std::int64_t scale_a_ld;
  std::int64_t scale_b_ld;
  int bias_dtype;
};

// The GemmScaleA / GemmScaleB enumerators of kernels/fp8kit/gemm/scale_modes.cuh, as source text.
std::string_view gemm_scale_enum(ScaleModeA mode);
std::string_view gemm_scale_enum(ScaleModeB mode);
// The GemmOut enumerator of kernels/fp8kit/gemm/out_dtypes.cuh for an out dtype, as source text.
std::string_view gemm_out_enum(DType out);

// GemmBias code of kernels/fp8kit/gemm/out_dtypes.cuh (0: none).
int gemm_bias_code(const std::optional<DType>& bias);

}  // namespace fp8kit::ops
