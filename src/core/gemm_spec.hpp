// Shape rules of the scaled GEMM (DESIGN.md §3), shared by every backend and the CPU reference.
#pragma once

#include <cstdint>

#include "fp8kit/gemm.hpp"

namespace fp8kit {

constexpr std::int64_t kGemmScaleBlock = 128;  // K width of a group128/block128 scale
constexpr std::int64_t kGemmDimAlign = 16;     // N and K: TMA needs 16-byte row strides

// Leading dimensions of the padded scale layouts of fp8kit/gemm.hpp.
std::int64_t group128_scale_ld(std::int64_t m);  // round_up(M, 4): column stride of A's scales
std::int64_t block128_scale_ld(std::int64_t k);  // round_up(ceil(K/128), 4): row stride of B's

// Either side scaled per 128-wide K block (group128 A or block128 B): K in whole scale blocks, and
// every K block's sum promoted into fp32 (no fast accumulation).
bool is_scaled_by_128(ScaleModeA a, ScaleModeB b);

// Throws fp8kit::Error(kInvalidArgument) naming the argument and the rule: M >= 0; N, K > 0 and
// multiples of 16; K % 128 == 0 when either side uses 128-wide scales. M = 0 is valid (no work).
void validate_gemm(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b);

// Out dtype of a GEMM: float, half or bfloat16; anything else throws kInvalidArgument.
void validate_gemm_out_dtype(DType out);

}  // namespace fp8kit
