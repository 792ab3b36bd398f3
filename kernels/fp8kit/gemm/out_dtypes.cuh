// The GEMM output and bias dtypes every epilogue shares: their codes, fp32 -> bf16/fp16 through the
// round-to-nearest-even PTX cvt (so device results round exactly as src/core/ref_gemm's store()),
// bias loads and output stores.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

// Output dtypes as template parameters (mirrored by the host code generator).
enum GemmOut : int { kGemmOutF32 = 0, kGemmOutF16 = 1, kGemmOutBF16 = 2 };
// Bias dtypes as a run-time value: one kernel serves every bias type (0: no bias).
enum GemmBias : int { kGemmBiasNone = 0, kGemmBiasF32 = 1, kGemmBiasF16 = 2, kGemmBiasBF16 = 3 };

__device__ __forceinline__ u16 bf16_bits_from_float(float x) {
  u16 bits;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(x));
  return bits;
}

__device__ __forceinline__ u16 f16_bits_from_float(float x) {
  u16 bits;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(x));
  return bits;
}

__device__ __forceinline__ float float_from_f16_bits(u16 bits) {
  float out;
  asm("cvt.f32.f16 %0, %1;" : "=f"(out) : "h"(bits));
  return out;
}

// bf16 is the high half of an fp32: widening is exact.
__device__ __forceinline__ float float_from_bf16_bits(u16 bits) {
  return __uint_as_float(static_cast<u32>(bits) << 16);
}

__device__ __forceinline__ float load_bias(const void* bias, int dtype, i64 n) {
  switch (dtype) {
    case kGemmBiasF32: return static_cast<const float*>(bias)[n];
    case kGemmBiasF16: return float_from_f16_bits(static_cast<const u16*>(bias)[n]);
    case kGemmBiasBF16: return float_from_bf16_bits(static_cast<const u16*>(bias)[n]);
    default: return 0.0f;
  }
}

template <int kOut>
__device__ __forceinline__ void store_out(void* out, i64 index, float v) {
  static_assert(kOut == kGemmOutF32 || kOut == kGemmOutF16 || kOut == kGemmOutBF16, "unknown GemmOut");
  if constexpr (kOut == kGemmOutF32) {
    static_cast<float*>(out)[index] = v;
  } else if constexpr (kOut == kGemmOutF16) {
    static_cast<u16*>(out)[index] = f16_bits_from_float(v);
  } else {
    static_cast<u16*>(out)[index] = bf16_bits_from_float(v);
  }
}

}  // namespace fp8kit
