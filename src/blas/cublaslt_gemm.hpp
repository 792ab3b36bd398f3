// cuBLASLt backends of scaled_mm and mm (DESIGN.md §3). Arguments arrive checked by
// src/ops/scaled_mm_checks; this layer maps them onto cuBLASLt's rules and caches everything.
//
// Rules met, and where they come from:
//  - FP8 only in the "TN" format on Hopper (cuBLAS docs, cublasLtMatmul(), "To use tensor- or
//    block-scaled FP8 kernels"): A transposed, B not. cuBLASLt is column-major, so our row-major
//    D (M, N) = A · Bᵀ is its column-major Dᵀ (N, M) = B · Aᵀ: cuBLAS A := our B (op T, K x N,
//    ld = ldb), cuBLAS B := our A (op N, K x M, ld = lda), m := N, n := M; the scales swap with
//    the operands (A_SCALE := our scale_b, B_SCALE := our scale_a).
//  - 16-byte alignment of pointers and leading dimensions (same section, "Tensor Core Usage"):
//    checked up front; the heuristic is asked for algorithms valid at 16-byte alignment
//    (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES) so a cached algorithm fits every later call.
//  - compute type CUBLAS_COMPUTE_32F, scale type CUDA_R_32F (same section).
//  - bias type: bf16 for bf16 and fp32 out, fp16 for fp16 out (the FP8 datatype table); others
//    are refused before we get here.
//  - scale modes (cublasLtMatmulMatrixScale_t, cublasLt.h): tensor x tensor -> SCALAR_32F both;
//    token x channel -> OUTER_VEC_32F both; group128 x block128 -> cuBLAS A (our weight)
//    BLK128x128_32F and cuBLAS B (our activations) VEC128_32F.
//  - cuBLASLt has no SCALAR x OUTER_VEC mix (both sides of OUTER_VEC_32F are vectors), so a
//    per-tensor side of token x tensor / tensor x channel is broadcast into a device vector owned
//    by the cached plan, refreshed by a one-block kernel before every call (the scale is on the
//    device and may change between calls; the extra launch is part of the measured time).
//  - block scale layouts: VEC128_32F expects (K/128, round_up(M, 4)) with M fastest and
//    BLK128x128_32F (ceil(N/128), round_up(K/128, 4)) with K-blocks fastest: exactly DESIGN §3's
//    group128 / block128 layouts (TransformerEngine's "GEMM_READY" shapes), so no copy and no
//    padding of M or N is needed: M is any value, N % 16 == 0 by validate_gemm. The padded
//    leading dimension round_up(K/128, 4) is what avoids the wrong results cuBLASLt 13.1 gave
//    with unpadded rows at K = 2304 and K = 256 (tested).
//  - no fast accumulation with 128-wide scales (PyTorch's scaled_gemm refuses it; promotion is
//    the point of those modes): refused in check_backend_rules; otherwise
//    CUBLASLT_MATMUL_DESC_FAST_ACCUM follows ScaledMmOptions::fast_accum.
//  - workspace: 32 MiB per (device, stream), 256-byte aligned (cudaMalloc), allocated on the
//    first call on that stream; cuBLASLt must not share a workspace between concurrent streams.
//
// Caching: one plan (matmul descriptor, four layouts, the heuristic's algorithm, the broadcast
// vector) per (device, stream, M, N, K, leading dimensions, dtypes, scale modes, bias dtype,
// fast_accum). After the first call for a key nothing is allocated and the call is capturable in
// a CUDA graph; a first call while the stream is capturing throws (allocation is not capturable).
#pragma once

#include <cuda_runtime_api.h>

#include <optional>

#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::blas {

bool cublaslt_supports(ScaleModeA a, ScaleModeB b);

void cublaslt_scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
                        ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
                        const std::optional<TensorView>& bias, cudaStream_t stream, bool fast_accum);

void cublaslt_mm(const TensorView& a, const TensorView& b, const TensorView& out,
                 const std::optional<TensorView>& bias, cudaStream_t stream);

// Number of cached plans (for tests: the second call of a shape must not add one).
std::size_t cublaslt_plan_count();

}  // namespace fp8kit::blas
