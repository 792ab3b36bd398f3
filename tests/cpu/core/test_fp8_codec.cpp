// E4M3 / E5M2 / fp16 / bf16 codecs against values derived from the bit fields (DESIGN.md §3).
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/fp8_codec.hpp"

namespace fp8kit {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }
float from_bits(std::uint32_t b) { return std::bit_cast<float>(b); }

// Expected value of a code of a small IEEE-like format, from its fields alone.
struct Fields {
  int exp_bits;
  int mant_bits;
  int bias;
};

double field_value(std::uint32_t code, Fields f) {
  const int total = 1 + f.exp_bits + f.mant_bits;
  const bool negative = ((code >> (total - 1)) & 1u) != 0;
  const int exponent = static_cast<int>((code >> f.mant_bits) & ((1u << f.exp_bits) - 1));
  const int mantissa = static_cast<int>(code & ((1u << f.mant_bits) - 1));
  const double magnitude = exponent == 0 ? std::ldexp(double(mantissa), 1 - f.bias - f.mant_bits)
                                         : std::ldexp(double((1 << f.mant_bits) + mantissa),
                                                      exponent - f.bias - f.mant_bits);
  return negative ? -magnitude : magnitude;
}

bool same_float(float a, float b) { return bits_of(a) == bits_of(b); }

// --- E4M3 --------------------------------------------------------------------------------------

constexpr Fields kE4M3Fields{4, 3, 7};

bool e4m3_is_nan_code(int code) { return (code & 0x7F) == 0x7F; }

TEST(E4M3, AllCodesDecodeToTheirFieldValue) {
  for (int code = 0; code < 256; ++code) {
    const float v = e4m3_to_float(static_cast<std::uint8_t>(code));
    if (e4m3_is_nan_code(code)) {
      EXPECT_TRUE(std::isnan(v)) << "code " << code;
      EXPECT_EQ(std::signbit(v), code >= 0x80) << "code " << code;
      continue;
    }
    const double expected = field_value(static_cast<std::uint32_t>(code), kE4M3Fields);
    EXPECT_EQ(double(v), expected) << "code " << code;
    EXPECT_EQ(std::signbit(v), code >= 0x80) << "code " << code;  // 0x80 is -0
  }
  EXPECT_EQ(e4m3_to_float(0x7E), 448.0f);
  EXPECT_EQ(e4m3_to_float(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(e4m3_to_float(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(e4m3_to_float(0x38), 1.0f);
  EXPECT_TRUE(same_float(e4m3_to_float(0x80), -0.0f));
}

TEST(E4M3, AllCodesReencodeToThemselves) {
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    const std::uint8_t expected = e4m3_is_nan_code(code) ? 0x7F : c;
    EXPECT_EQ(e4m3_from_float(e4m3_to_float(c)), expected) << "code " << code;
  }
}

TEST(E4M3, PositiveCodesAreStrictlyIncreasing) {
  for (int code = 0; code < 0x7E; ++code) {
    EXPECT_LT(e4m3_to_float(static_cast<std::uint8_t>(code)),
              e4m3_to_float(static_cast<std::uint8_t>(code + 1)));
  }
}

// For every pair of adjacent finite codes of one sign: the midpoint goes to the even code, and
// the floats just beside it go to the nearer code.
template <typename Encode>
void check_midpoints(int last_code, int sign_bit, Fields fields, Encode encode) {
  for (int sign : {0, 1}) {
    for (int lo = 0; lo < last_code; ++lo) {
      const int hi = lo + 1;
      const double a = field_value(static_cast<std::uint32_t>(lo), fields);
      const double b = field_value(static_cast<std::uint32_t>(hi), fields);
      const auto mid = static_cast<float>((a + b) / 2);
      ASSERT_EQ(double(mid), (a + b) / 2) << "midpoint not exact in fp32";
      const float s = sign ? -1.0f : 1.0f;
      const auto with_sign = [&](int code) {
        return static_cast<std::uint32_t>(code | (sign ? sign_bit : 0));
      };
      const int even = (lo % 2 == 0) ? lo : hi;
      EXPECT_EQ(encode(s * mid), with_sign(even)) << "midpoint of " << lo << "," << hi;
      EXPECT_EQ(encode(s * std::nextafter(mid, kInf)), with_sign(hi)) << "above midpoint " << lo;
      EXPECT_EQ(encode(s * std::nextafter(mid, 0.0f)), with_sign(lo)) << "below midpoint " << lo;
      EXPECT_EQ(encode(s * static_cast<float>(a)), with_sign(lo));
    }
  }
}

TEST(E4M3, EveryMidpointRoundsToEven) {
  check_midpoints(0x7E, 0x80, kE4M3Fields,
                  [](float x) { return std::uint32_t{e4m3_from_float(x)}; });
}

TEST(E4M3, NearestBySearchOnAGridOfInputs) {
  // An independent oracle: the nearest of the 127 non-negative finite values, ties to the even
  // code, saturating above 448.
  std::vector<double> values;
  for (int code = 0; code <= 0x7E; ++code)
    values.push_back(field_value(std::uint32_t(code), kE4M3Fields));
  for (float x = std::ldexp(1.0f, -12); x < 600.0f; x = std::nextafter(x * 1.0009765625f, kInf)) {
    int best = 0;
    for (int code = 1; code <= 0x7E; ++code) {
      const double d = std::fabs(values[size_t(code)] - x);
      const double best_d = std::fabs(values[size_t(best)] - x);
      if (d < best_d || (d == best_d && code % 2 == 0)) best = code;
    }
    ASSERT_EQ(e4m3_from_float(x), best) << "x = " << x;
    ASSERT_EQ(e4m3_from_float(-x), best | 0x80) << "x = " << -x;
  }
}

TEST(E4M3, SaturatesFiniteOverflowAndInfinity) {
  for (float x :
       {448.0f, 449.0f, 463.99997f, 464.0f, 465.0f, 480.0f, 512.0f, 1e30f, FLT_MAX, kInf}) {
    EXPECT_EQ(e4m3_from_float(x), 0x7E) << x;
    EXPECT_EQ(e4m3_from_float(-x), 0xFE) << -x;
  }
  EXPECT_EQ(e4m3_from_float(432.0f), 0x7E);  // midpoint 416|448: 448 (0x7E) is even
  EXPECT_EQ(e4m3_from_float(std::nextafter(432.0f, 0.0f)), 0x7D);
}

TEST(E4M3, ZerosAndSubnormals) {
  EXPECT_EQ(e4m3_from_float(0.0f), 0x00);
  EXPECT_EQ(e4m3_from_float(-0.0f), 0x80);
  const float min_sub = std::ldexp(1.0f, -9);
  EXPECT_EQ(e4m3_from_float(min_sub), 0x01);
  EXPECT_EQ(e4m3_from_float(min_sub / 2), 0x00);  // tie with 0: 0 is even
  EXPECT_EQ(e4m3_from_float(std::nextafter(min_sub / 2, 1.0f)), 0x01);
  EXPECT_EQ(e4m3_from_float(-std::nextafter(min_sub / 2, 1.0f)), 0x81);
  EXPECT_EQ(e4m3_from_float(1.5f * min_sub), 0x02);  // tie 1|2: 2 is even
  EXPECT_EQ(e4m3_from_float(2.5f * min_sub), 0x02);  // tie 2|3
  EXPECT_EQ(e4m3_from_float(7.5f * min_sub), 0x08);  // tie between largest subnormal and 2^-6
  EXPECT_EQ(e4m3_from_float(std::numeric_limits<float>::denorm_min()), 0x00);
  EXPECT_EQ(e4m3_from_float(-std::numeric_limits<float>::denorm_min()), 0x80);
  EXPECT_EQ(e4m3_from_float(FLT_MIN), 0x00);
}

TEST(E4M3, NaNBecomes0x7FWhateverItsSign) {
  // sm_90's cvt.rn.satfinite.e4m3x2.f32 writes 0x7F for negative NaNs too (measured on an H200).
  for (std::uint32_t b : {0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0x7FA00000u}) {
    EXPECT_EQ(e4m3_from_float(from_bits(b)), 0x7F) << std::hex << b;
    EXPECT_EQ(e4m3_from_float(from_bits(b | 0x80000000u)), 0x7F) << std::hex << (b | 0x80000000u);
  }
}

// --- E5M2 --------------------------------------------------------------------------------------

constexpr Fields kE5M2Fields{5, 2, 15};

TEST(E5M2, AllCodesDecodeToTheirFieldValue) {
  for (int code = 0; code < 256; ++code) {
    const float v = e5m2_to_float(static_cast<std::uint8_t>(code));
    const int abs_code = code & 0x7F;
    if (abs_code == 0x7C) {
      EXPECT_EQ(v, code >= 0x80 ? -kInf : kInf) << "code " << code;
    } else if (abs_code > 0x7C) {
      EXPECT_TRUE(std::isnan(v)) << "code " << code;
      EXPECT_EQ(std::signbit(v), code >= 0x80) << "code " << code;
    } else {
      EXPECT_EQ(double(v), field_value(static_cast<std::uint32_t>(code), kE5M2Fields)) << code;
      EXPECT_EQ(std::signbit(v), code >= 0x80) << "code " << code;
    }
  }
  EXPECT_EQ(e5m2_to_float(0x7B), 57344.0f);
  EXPECT_EQ(e5m2_to_float(0x01), std::ldexp(1.0f, -16));
  EXPECT_EQ(e5m2_to_float(0x3C), 1.0f);
}

TEST(E5M2, AllCodesReencodeToThemselves) {
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    const int abs_code = code & 0x7F;
    std::uint8_t expected = c;
    if (abs_code == 0x7C) expected = static_cast<std::uint8_t>((code & 0x80) | 0x7B);  // satfinite
    if (abs_code > 0x7C) expected = 0x7F;
    EXPECT_EQ(e5m2_from_float(e5m2_to_float(c)), expected) << "code " << code;
  }
}

TEST(E5M2, EveryMidpointRoundsToEven) {
  check_midpoints(0x7B, 0x80, kE5M2Fields,
                  [](float x) { return std::uint32_t{e5m2_from_float(x)}; });
}

TEST(E5M2, SaturationZerosAndNaN) {
  for (float x : {57344.0f, 57345.0f, 61440.0f, 65536.0f, 1e30f, FLT_MAX, kInf}) {
    EXPECT_EQ(e5m2_from_float(x), 0x7B) << x;
    EXPECT_EQ(e5m2_from_float(-x), 0xFB) << -x;
  }
  EXPECT_EQ(e5m2_from_float(0.0f), 0x00);
  EXPECT_EQ(e5m2_from_float(-0.0f), 0x80);
  EXPECT_EQ(e5m2_from_float(std::ldexp(1.0f, -17)), 0x00);  // tie with 0
  EXPECT_EQ(e5m2_from_float(std::nextafter(std::ldexp(1.0f, -17), 1.0f)), 0x01);
  EXPECT_EQ(e5m2_from_float(kNaN), 0x7F);
  EXPECT_EQ(e5m2_from_float(-kNaN), 0x7F);
  EXPECT_EQ(e5m2_from_float(from_bits(0xFF800001u)), 0x7F);
}

// --- fp16 and bf16 ------------------------------------------------------------------------------

constexpr Fields kHalfFields{5, 10, 15};
constexpr Fields kBF16Fields{8, 7, 127};

TEST(Half, EveryPatternDecodesAndRoundTrips) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float v = half_to_float(bits);
    const std::uint32_t abs_bits = b & 0x7FFF;
    if (abs_bits > 0x7C00) {
      ASSERT_TRUE(std::isnan(v)) << b;
      ASSERT_EQ(std::signbit(v), b >= 0x8000) << b;
      ASSERT_EQ(half_from_float(v), 0x7FFF) << b;  // canonical quiet NaN
      continue;
    }
    if (abs_bits == 0x7C00) {
      ASSERT_EQ(v, b >= 0x8000 ? -kInf : kInf);
    } else {
      ASSERT_EQ(double(v), field_value(b, kHalfFields)) << b;
      ASSERT_EQ(std::signbit(v), b >= 0x8000) << b;
    }
    ASSERT_EQ(half_from_float(v), bits) << b;
  }
}

TEST(Half, EveryMidpointRoundsToEven) {
  check_midpoints(0x7BFF, 0x8000, kHalfFields,
                  [](float x) { return std::uint32_t{half_from_float(x)}; });
}

TEST(Half, OverflowUnderflowAndNaN) {
  EXPECT_EQ(half_from_float(65504.0f), 0x7BFF);
  EXPECT_EQ(half_from_float(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(half_from_float(65520.0f), 0x7C00);  // tie with 2^16, which is Inf
  EXPECT_EQ(half_from_float(1e10f), 0x7C00);
  EXPECT_EQ(half_from_float(-kInf), 0xFC00);
  EXPECT_EQ(half_from_float(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(half_from_float(std::ldexp(1.0f, -25)), 0x0000);  // tie with 0
  EXPECT_EQ(half_from_float(-std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x8001);
  EXPECT_EQ(half_from_float(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(half_from_float(-0.0f), 0x8000);
  EXPECT_EQ(half_from_float(1.0f), 0x3C00);
  EXPECT_EQ(half_from_float(-kNaN), 0x7FFF);
  EXPECT_EQ(half_from_float(from_bits(0x7F800001u)), 0x7FFF);
}

TEST(BF16, EveryPatternDecodesAndRoundTrips) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float v = bf16_to_float(bits);
    ASSERT_EQ(bits_of(v), b << 16) << b;  // bfloat16 is the top half of an fp32
    const std::uint32_t abs_bits = b & 0x7FFF;
    if (abs_bits > 0x7F80) {
      ASSERT_EQ(bf16_from_float(v), 0x7FFF) << b;
      continue;
    }
    if (abs_bits < 0x7F80) {
      ASSERT_EQ(double(v), field_value(b, kBF16Fields)) << b;
    }
    ASSERT_EQ(bf16_from_float(v), bits) << b;
  }
}

TEST(BF16, EveryMidpointRoundsToEven) {
  check_midpoints(0x7F7F, 0x8000, kBF16Fields,
                  [](float x) { return std::uint32_t{bf16_from_float(x)}; });
}

TEST(BF16, RoundingOverflowAndNaN) {
  EXPECT_EQ(bf16_from_float(from_bits(0x3F808000u)), 0x3F80);  // tie, 0x3F80 even
  EXPECT_EQ(bf16_from_float(from_bits(0x3F818000u)), 0x3F82);  // tie, rounds up to even
  EXPECT_EQ(bf16_from_float(from_bits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(bf16_from_float(FLT_MAX), 0x7F80);  // rounds past the largest bf16 to Inf
  EXPECT_EQ(bf16_from_float(from_bits(0x7F7F7FFFu)), 0x7F7F);
  EXPECT_EQ(bf16_from_float(-kInf), 0xFF80);
  EXPECT_EQ(bf16_from_float(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(bf16_from_float(from_bits(0x00008001u)), 0x0001);  // fp32 subnormal -> bf16 subnormal
  EXPECT_EQ(bf16_from_float(from_bits(0x807FFFFFu)), 0x8080);  // carries into the smallest normal
  EXPECT_EQ(bf16_from_float(kNaN), 0x7FFF);
  EXPECT_EQ(bf16_from_float(-kNaN), 0x7FFF);
}

}  // namespace
}  // namespace fp8kit
