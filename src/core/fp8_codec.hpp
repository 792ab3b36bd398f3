// Bit-exact host codecs for the 8- and 16-bit float formats fp8kit uses (DESIGN.md §3).
// These are the oracle every GPU kernel is compared against.
#pragma once

#include <cstdint>

namespace fp8kit {

// OCP E4M3 "fn": bias 7, max ±448, no infinities, NaN = S.1111.111.
// Rounds to nearest even and saturates: finite |x| > 448 and ±Inf become ±448; NaN becomes 0x7F
// whatever its sign (what cvt.rn.satfinite.e4m3x2.f32 writes: measured on sm_90, a negative NaN
// gives 0x7F too, not 0xFF). Decoding 0xFF gives a negative NaN.
std::uint8_t e4m3_from_float(float x);
float e4m3_to_float(std::uint8_t code);

// OCP E5M2: bias 15, max ±57344, ±Inf = S.11111.00, NaN = S.11111.{01,10,11}.
// Rounds to nearest even and saturates like cvt.rn.satfinite.e5m2x2.f32: finite overflow and ±Inf
// become ±57344; NaN becomes 0x7F whatever its sign (as the hardware writes).
std::uint8_t e5m2_from_float(float x);
float e5m2_to_float(std::uint8_t code);

constexpr float kE4M3Max = 448.0f;
constexpr float kE5M2Max = 57344.0f;

// IEEE binary16 and bfloat16, round to nearest even, overflow to ±Inf. NaN stays NaN: from_float
// writes the canonical quiet NaN 0x7FFF (as cvt.rn.f16.f32 / cvt.rn.bf16.f32 do); to_float
// widens any pattern exactly, NaN payload and sign included.
std::uint16_t half_from_float(float x);
float half_to_float(std::uint16_t bits);
std::uint16_t bf16_from_float(float x);
float bf16_to_float(std::uint16_t bits);

}  // namespace fp8kit
