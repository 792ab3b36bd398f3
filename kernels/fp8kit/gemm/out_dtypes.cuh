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

// A split sum's last step (split_k_reduce.cuh, sm90_gemm_split_cluster.cuh): four columns from
// col, + bias, rounded once to the out dtype and stored at out[at .. at + 3].
template <int kOut>
__device__ __forceinline__ void finish_quad(float4 acc, const void* bias, int bias_dtype, i64 col, void* out, i64 at) {
  if (bias_dtype != kGemmBiasNone) {  // not `+ 0.0f` without a bias: that is no identity for -0
    acc.x += load_bias(bias, bias_dtype, col);
    acc.y += load_bias(bias, bias_dtype, col + 1);
    acc.z += load_bias(bias, bias_dtype, col + 2);
    acc.w += load_bias(bias, bias_dtype, col + 3);
  }
  if constexpr (kOut == kGemmOutF32) {
    *reinterpret_cast<float4*>(static_cast<float*>(out) + at) = acc;
  } else {
    const auto bits = [](float x) { return kOut == kGemmOutBF16 ? bf16_bits_from_float(x) : f16_bits_from_float(x); };
    const u64 packed = u64{bits(acc.x)} | u64{bits(acc.y)} << 16 | u64{bits(acc.z)} << 32 | u64{bits(acc.w)} << 48;
    *reinterpret_cast<u64*>(static_cast<u16*>(out) + at) = packed;
  }
}

}  // namespace fp8kit
