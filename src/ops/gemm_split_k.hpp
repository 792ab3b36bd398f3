// Split-K's host side (sm90_fp8_gemm with split_k > 1): the fp32 partial slabs' workspace, kept
// per device and stream and grown only outside CUDA-graph capture, and the reduce that turns the
// slabs into the output (kernels/fp8kit/gemm/split_k_reduce.cuh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <cuda_runtime.h>

#include "fp8kit/gemm.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::ops {

// At least `bytes` of device memory for `stream`'s split-K partials on the current device, the
// same buffer every call (held until exit); null when it would have to grow while the stream is
// capturing a graph (the caller then runs unsplit).
float* split_k_workspace(std::size_t bytes, cudaStream_t stream);

// The reduce kernel for an out dtype (the bias dtype is a run-time value).
jit::KernelSource split_k_reduce_source(DType out);

// out = the split_k slabs of `partials` (each split_rows x N fp32) summed in split order + bias.
// Launched after the GEMM with programmatic dependent launch.
void launch_split_k_reduce(const float* partials, int split_k, std::int64_t split_rows, const TensorView& out,
                           const std::optional<TensorView>& bias, cudaStream_t stream);

}  // namespace fp8kit::ops
