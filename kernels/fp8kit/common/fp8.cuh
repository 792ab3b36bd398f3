// FP8 conversions through the hardware cvt instructions (sm_89+), so that device code rounds
// exactly as the CPU codec in src/core/fp8_codec.cpp specifies (DESIGN.md §3).
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

// Round to nearest even, saturate to ±448; NaN becomes 0x7F with the input's sign.
__device__ __forceinline__ u8 e4m3_from_float(float x) {
  u16 pair;
  // cvt packs two values; the low byte comes from the second source operand.
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(pair) : "f"(0.0f), "f"(x));
  return static_cast<u8>(pair & 0xFF);
}

// Two values in one instruction: lo goes to the low byte.
__device__ __forceinline__ u16 e4m3x2_from_float(float lo, float hi) {
  u16 pair;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(pair) : "f"(hi), "f"(lo));
  return pair;
}

__device__ __forceinline__ u8 e5m2_from_float(float x) {
  u16 pair;
  asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(pair) : "f"(0.0f), "f"(x));
  return static_cast<u8>(pair & 0xFF);
}

// Exact: every E4M3 value is representable in half, and half converts exactly to float.
__device__ __forceinline__ float e4m3_to_float(u8 code) {
  u32 halves;
  asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(halves) : "h"(static_cast<u16>(code)));
  float out;
  asm("cvt.f32.f16 %0, %1;" : "=f"(out) : "h"(static_cast<u16>(halves & 0xFFFF)));
  return out;
}

}  // namespace fp8kit
