// Scaled-GEMM vocabulary (DESIGN.md §3): D = A · Bᵀ with A (M, K) and B (N, K) in E4M3.
// The GPU entry point fp8kit::scaled_mm arrives with the GEMM backends; the CPU reference in
// src/core uses the same types.
#pragma once

#include <cstdint>
#include <string_view>

#include "fp8kit/types.hpp"

namespace fp8kit {

enum class ScaleModeA : std::uint8_t { kTensor, kToken, kGroup128 };
enum class ScaleModeB : std::uint8_t { kTensor, kChannel, kBlock128 };

std::string_view scale_mode_name(ScaleModeA m);  // "tensor", "token", "group128"
std::string_view scale_mode_name(ScaleModeB m);  // "tensor", "channel", "block128"

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
};

// Scale tensors as the GEMM reads them (fp32):
//   A kTensor: 1 value; kToken: M values; kGroup128: (M, K/128) column-major TMA-aligned,
//     element (m, kb) at kb * round_up(M, 4) + m.
//   B kTensor: 1 value; kChannel: N values; kBlock128: (ceil(N/128), K/128) row-major with
//     leading dimension round_up(K/128, 4).
std::int64_t scale_a_elems(ScaleModeA mode, std::int64_t m, std::int64_t k);
std::int64_t scale_b_elems(ScaleModeB mode, std::int64_t n, std::int64_t k);

}  // namespace fp8kit
