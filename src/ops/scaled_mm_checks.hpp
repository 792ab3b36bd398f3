// Argument checks of scaled_mm / mm / linear that need no GPU (DESIGN.md §8): dtypes, ranks,
// shapes, strides, 16-byte alignment, scale sizes, backend rules. Each failure throws
// fp8kit::Error(kInvalidArgument) naming the argument and the rule. CPU-tested.
#pragma once

#include <optional>

#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::ops {

// Checks every argument of scaled_mm and returns (M, N, K).
GemmShape check_scaled_mm_args(const TensorView& a, const TensorView& b, ScaleModeA mode_a,
                               const TensorView& scale_a, ScaleModeB mode_b, const TensorView& scale_b,
                               const TensorView& out, const std::optional<TensorView>& bias);

// The same for mm (bf16/fp16 inputs of one dtype, out = input dtype or fp32, bias = out dtype).
GemmShape check_mm_args(const TensorView& a, const TensorView& b, const TensorView& out,
                        const std::optional<TensorView>& bias);

// Rules of one backend for an already checked call: supported pair, bias dtype, fast_accum.
void check_backend_rules(GemmBackend backend, ScaleModeA mode_a, ScaleModeB mode_b, DType out,
                         std::optional<DType> bias, const ScaledMmOptions& options, std::int64_t m = 0);

// The bias dtype cuBLASLt's FP8 epilogue takes for an out dtype (its datatype table): bf16 for
// bf16 and fp32 out, fp16 for fp16 out.
DType cublaslt_fp8_bias_dtype(DType out);

// Whether cuBLASLt runs a pair with an out dtype: its block-scaled kernels (VEC128_32F x
// BLK128x128_32F) have no fp32 output on Hopper (measured on an H200 with cuBLASLt 13.x: the
// heuristic answers CUBLAS_STATUS_NOT_SUPPORTED), so that case is refused up front.
bool cublaslt_supports_out(ScaleModeA mode_a, ScaleModeB mode_b, DType out);
// cuBLASLt's block-scaled path with M % 4 != 0: its heuristic answered NOT_SUPPORTED on an H200
// (cuBLASLt 13.x) at M = 1 and M = 45 for every out dtype. Our working hypothesis is that M must
// be a multiple of 4 (the VEC128 scale rows are round_up(M, 4) long); such M are refused here
// (auto falls back to the reference kernel) until a padded path is measured.
bool cublaslt_supports_m(ScaleModeA mode_a, ScaleModeB mode_b, std::int64_t m);

// The QuantSpec linear() uses for an activation scale mode.
QuantSpec linear_quant_spec(ScaleModeA act);

}  // namespace fp8kit::ops
