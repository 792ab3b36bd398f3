// The split-K reduce kernel's parameter (split_k_reduce.cuh). Host-clean: src/ops/gemm_split_k.cpp
// includes this same header to fill it.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

struct SplitKReduceParams {
  const float* partials;  // (split_k * split_rows, n) fp32, row stride n: split s's slab from row s * split_rows
  void* out;              // (m, n) of the out dtype, row stride ld_out
  const void* bias;       // n values of bias_dtype (GemmBias), or null
  i64 ld_out;
  i32 m, n, split_k, split_rows, bias_dtype;
};

}  // namespace fp8kit
