// The matrix-unit ceilings that GEMM reports compare against: cuBLASLt FP8 (per-tensor scales,
// with and without fast accumulation) and BF16 at 8192^3, stored by `fp8kit info --measure`.
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <string>

namespace fp8kit::bench {

// TFLOP/s (median of graph replays) by name: "cublaslt_fp8_tflops",
// "cublaslt_fp8_fast_accum_tflops", "cublaslt_bf16_tflops". Each product is checked on sampled
// elements against a double-precision dot product before it is timed; a wrong one throws.
std::map<std::string, double> measure_gemm_ceilings(cudaStream_t stream, int n = 8192);

}  // namespace fp8kit::bench
