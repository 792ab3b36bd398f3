// Float encoders work on the fp32 bit pattern with integer arithmetic, so the result does not
// depend on the FPU rounding mode, FTZ/DAZ or the compiler's floating-point options.
#include "core/fp8_codec.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace fp8kit {
namespace {

constexpr std::uint32_t kF32SignMask = 0x80000000u;
constexpr std::uint32_t kF32AbsMask = 0x7FFFFFFFu;
constexpr std::uint32_t kF32Inf = 0x7F800000u;
constexpr int kF32MantBits = 23;
constexpr int kF32Bias = 127;

// What sm_90's cvt.rn.satfinite.{e4m3,e5m2}x2.f32 and cvt.rn.{f16,bf16}.f32 write for every NaN
// input, whatever its sign or payload (checked on an H200 against all 2^32 fp32 patterns). GPU
// fp32 arithmetic also returns one canonical NaN, so NaN results never carry a sign there.
constexpr std::uint8_t kNaNCode = 0x7F;
constexpr std::uint16_t kCanonicalNaN16 = 0x7FFF;

// A binary float format narrower than fp32: mant_bits stored mantissa bits and an exponent bias,
// with IEEE-style subnormals.
struct Format {
  int mant_bits;
  int bias;
};

constexpr Format kE4M3{3, 7};
constexpr Format kE5M2{2, 15};
constexpr Format kHalf{10, 15};
constexpr Format kBF16{7, 127};

// Rounds the finite magnitude |x| (fp32 bits, sign cleared) to the nearest value of `fmt`, ties to
// even, and returns its code without sign. Overflow is not handled here: a magnitude beyond the
// largest binade carries into exponent codes the caller must clamp.
std::uint32_t encode_magnitude(std::uint32_t abs_bits, Format fmt) {
  const int biased = static_cast<int>(abs_bits >> kF32MantBits);
  std::uint64_t significand = abs_bits & ((1u << kF32MantBits) - 1);
  int exponent = 1 - kF32Bias;  // fp32 subnormals share the smallest normal exponent
  if (biased != 0) {
    significand |= 1u << kF32MantBits;
    exponent = biased - kF32Bias;
  }
  // Value = significand * 2^(exponent - 23). Express it in units of the target's quantum at this
  // exponent (the subnormal quantum below the target's smallest normal exponent).
  const int min_exponent = 1 - fmt.bias;
  const int unit_exponent = (exponent < min_exponent ? min_exponent : exponent);
  int shift = kF32MantBits - fmt.mant_bits + (unit_exponent - exponent);
  if (shift > 40) shift = 40;  // the significand has 24 bits: everything is below half a unit
  std::uint64_t units = significand >> shift;
  const std::uint64_t rest = significand - (units << shift);
  const std::uint64_t half = std::uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (units & 1u) != 0)) ++units;
  // Normal codes are (exponent field << mant_bits) + mantissa, with the implicit bit folded into
  // the exponent term; a carry out of the mantissa lands in the next binade as it should.
  return static_cast<std::uint32_t>(((unit_exponent - min_exponent) << fmt.mant_bits) + units);
}

float decode(std::uint32_t code_abs, Format fmt) {
  const std::uint32_t mant_mask = (1u << fmt.mant_bits) - 1;
  const auto mantissa = static_cast<int>(code_abs & mant_mask);
  const auto field = static_cast<int>(code_abs >> fmt.mant_bits);
  if (field == 0) return std::ldexp(static_cast<float>(mantissa), 1 - fmt.bias - fmt.mant_bits);
  // Normal: rebuild the fp32 pattern directly (every narrower format fits exactly in fp32).
  const auto bits = static_cast<std::uint32_t>(field - fmt.bias + kF32Bias) << kF32MantBits |
                    static_cast<std::uint32_t>(mantissa) << (kF32MantBits - fmt.mant_bits);
  return std::bit_cast<float>(bits);
}

float with_sign(float magnitude, bool negative) { return negative ? -magnitude : magnitude; }

}  // namespace

std::uint8_t e4m3_from_float(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint8_t>((bits & kF32SignMask) >> 24);
  const std::uint32_t abs_bits = bits & kF32AbsMask;
  if (abs_bits > kF32Inf) return kNaNCode;
  // Saturate: anything beyond 448, Inf included, becomes 448 (code 0x7E).
  if (abs_bits > std::bit_cast<std::uint32_t>(kE4M3Max))
    return static_cast<std::uint8_t>(sign | 0x7Eu);
  return static_cast<std::uint8_t>(sign | encode_magnitude(abs_bits, kE4M3));
}

float e4m3_to_float(std::uint8_t code) {
  const bool negative = (code & 0x80u) != 0;
  const std::uint32_t abs_code = code & 0x7Fu;
  if (abs_code == 0x7Fu) return with_sign(std::numeric_limits<float>::quiet_NaN(), negative);
  return with_sign(decode(abs_code, kE4M3), negative);
}

std::uint8_t e5m2_from_float(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint8_t>((bits & kF32SignMask) >> 24);
  const std::uint32_t abs_bits = bits & kF32AbsMask;
  if (abs_bits > kF32Inf) return kNaNCode;
  // satfinite: finite overflow and Inf become 57344 (code 0x7B), never Inf.
  if (abs_bits > std::bit_cast<std::uint32_t>(kE5M2Max))
    return static_cast<std::uint8_t>(sign | 0x7Bu);
  return static_cast<std::uint8_t>(sign | encode_magnitude(abs_bits, kE5M2));
}

float e5m2_to_float(std::uint8_t code) {
  const bool negative = (code & 0x80u) != 0;
  const std::uint32_t abs_code = code & 0x7Fu;
  if (abs_code == 0x7Cu) return with_sign(std::numeric_limits<float>::infinity(), negative);
  if (abs_code > 0x7Cu) return with_sign(std::numeric_limits<float>::quiet_NaN(), negative);
  return with_sign(decode(abs_code, kE5M2), negative);
}

std::uint16_t half_from_float(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((bits & kF32SignMask) >> 16);
  const std::uint32_t abs_bits = bits & kF32AbsMask;
  if (abs_bits > kF32Inf) return kCanonicalNaN16;
  if (abs_bits == kF32Inf) return static_cast<std::uint16_t>(sign | 0x7C00u);
  std::uint32_t code = encode_magnitude(abs_bits, kHalf);
  if (code > 0x7C00u) code = 0x7C00u;  // IEEE overflow: rounds to Inf
  return static_cast<std::uint16_t>(sign | code);
}

float half_to_float(std::uint16_t bits) {
  const bool negative = (bits & 0x8000u) != 0;
  const std::uint32_t abs_code = bits & 0x7FFFu;
  if (abs_code >= 0x7C00u) {
    // Inf and NaN: widen exponent and payload bit for bit.
    const std::uint32_t f32 = kF32Inf | (abs_code & 0x03FFu) << 13;
    return with_sign(std::bit_cast<float>(f32), negative);
  }
  return with_sign(decode(abs_code, kHalf), negative);
}

std::uint16_t bf16_from_float(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((bits & kF32SignMask) >> 16);
  const std::uint32_t abs_bits = bits & kF32AbsMask;
  if (abs_bits > kF32Inf) return kCanonicalNaN16;
  if (abs_bits == kF32Inf) return static_cast<std::uint16_t>(sign | 0x7F80u);
  std::uint32_t code = encode_magnitude(abs_bits, kBF16);
  if (code > 0x7F80u) code = 0x7F80u;
  return static_cast<std::uint16_t>(sign | code);
}

// bfloat16 is the top half of an fp32.
float bf16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

}  // namespace fp8kit
