// CPU reference quantizers on hand-made tensors whose answers are worked out by hand.
// E4M3 codes used below (S.EEEE.MMM, bias 7): 448 = 0x7E, 416 = 0x7D, 384 = 0x7C, 352 = 0x7B,
// 320 = 0x7A, 256 = 0x78, 224 = 0x76, 192 = 0x74, 128 = 0x70, 112 = 0x6E, 16 = 0x58, 8 = 0x50,
// 4 = 0x48, 3 = 0x44, 2 = 0x40, 1 = 0x38, 0.5 = 0x30; the sign bit is 0x80; NaN is 0x7F.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/ref_quant_checks.hpp"
#include "core/fp8_codec.hpp"
#include "core/ref_quant.hpp"

namespace fp8kit {
namespace {

using namespace test;  // the shared checks of common/ref_quant_checks.hpp

// --- dynamic_scale and quantize_value ----------------------------------------------------------

TEST(DynamicScale, PlainFp32) {
  EXPECT_EQ(ref::kMinDynamicScale, kFloor);
  EXPECT_EQ(ref::dynamic_scale(448.0f, false), 1.0f);
  EXPECT_EQ(ref::dynamic_scale(896.0f, false), 2.0f);
  EXPECT_EQ(ref::dynamic_scale(7.0f, false), 1.0f / 64);
  EXPECT_EQ(ref::dynamic_scale(1.0f, false), 1.0f / 448.0f);
  EXPECT_EQ(ref::dynamic_scale(0.0f, false), kFloor);
  EXPECT_EQ(ref::dynamic_scale(1e-9f, false), kFloor);
  EXPECT_EQ(ref::dynamic_scale(FLT_MAX, false), FLT_MAX / 448.0f);
  EXPECT_EQ(ref::dynamic_scale(kInf, false), kInf);
  // The floor takes over exactly where amax / 448 drops below it.
  EXPECT_EQ(ref::dynamic_scale(1.0f / 512, false), kFloor);
  EXPECT_EQ(ref::dynamic_scale(1.0f / 256, false), (1.0f / 256) / 448.0f);
}

TEST(DynamicScale, UE8M0RoundsUpToAPowerOfTwo) {
  EXPECT_EQ(ref::dynamic_scale(448.0f, true), 1.0f);  // already a power of two: unchanged
  EXPECT_EQ(ref::dynamic_scale(std::nextafter(448.0f, kInf), true), 2.0f);
  EXPECT_EQ(ref::dynamic_scale(std::nextafter(448.0f, 0.0f), true), 1.0f);
  EXPECT_EQ(ref::dynamic_scale(1.0f, true), std::ldexp(1.0f, -8));   // 1/448 in (2^-9, 2^-8]
  EXPECT_EQ(ref::dynamic_scale(1344.0f, true), 4.0f);                // 3 -> 4
  EXPECT_EQ(ref::dynamic_scale(0.0f, true), std::ldexp(1.0f, -17));  // 1/229376 in (2^-18, 2^-17]
  EXPECT_EQ(ref::dynamic_scale(FLT_MAX, true), std::ldexp(1.0f, 120));
  EXPECT_EQ(ref::dynamic_scale(kInf, true), kInf);
}

TEST(DynamicScale, UE8M0MatchesTheSmallestPowerOfTwoAbove) {
  // Oracle: walk powers of two upward until one is >= the plain fp32 scale.
  for (float amax = 1e-7f; amax < 1e12f; amax = std::nextafter(amax * 1.37f, kInf)) {
    const float plain = ref::dynamic_scale(amax, false);
    float p = std::ldexp(1.0f, -40);
    while (p < plain) p *= 2.0f;
    ASSERT_EQ(ref::dynamic_scale(amax, true), p) << "amax = " << amax;
  }
  for (int e = -30; e <= 30; ++e) {
    const float exact = std::ldexp(448.0f, e);
    for (float amax : {std::nextafter(exact, 0.0f), exact, std::nextafter(exact, kInf)}) {
      const float plain = ref::dynamic_scale(amax, false);
      float p = std::ldexp(1.0f, -40);
      while (p < plain) p *= 2.0f;
      ASSERT_EQ(ref::dynamic_scale(amax, true), p) << "amax = " << amax;
    }
  }
}

TEST(QuantizeValue, DividesInFp32) {
  EXPECT_EQ(ref::quantize_value(448.0f, 1.0f), 0x7E);
  EXPECT_EQ(ref::quantize_value(-3.0f, 0.5f), 0xCC);  // -6 = -1.5 * 2^2
  EXPECT_EQ(ref::quantize_value(1.0f, 0.0f), 0x7E);   // x / 0 = Inf saturates
  EXPECT_EQ(ref::quantize_value(0.0f, 0.0f), 0x7F);   // 0 / 0 = NaN
  EXPECT_EQ(ref::quantize_value(5.0f, kInf), 0x00);
  EXPECT_EQ(ref::quantize_value(-5.0f, kInf), 0x80);
  EXPECT_EQ(ref::quantize_value(kInf, kInf), 0x7F);
  EXPECT_EQ(ref::quantize_value(-kInf, kInf), 0x7F);
  // Inputs whose quotient sits next to an E4M3 rounding midpoint, where a reciprocal multiply
  // x * (1 / s) can land on the other side: an implementation that uses one fails here.
  int witnesses = 0;
  for (float amax : {3.0f, 5.0f, 10.0f, 0.3f, 1000.0f}) {
    const float s = amax / 448.0f;
    const float inverse = 1.0f / s;
    for (int lo = 0x08; lo < 0x7E; ++lo) {
      const float mid = (e4m3_to_float(std::uint8_t(lo)) + e4m3_to_float(std::uint8_t(lo + 1))) / 2;
      float x = mid * s;
      for (int i = 0; i < 20; ++i) x = std::nextafter(x, 0.0f);
      for (int i = 0; i < 40; ++i, x = std::nextafter(x, kInf)) {
        const std::uint8_t by_division = e4m3_from_float(x / s);
        ASSERT_EQ(ref::quantize_value(x, s), by_division) << "x = " << x << ", s = " << s;
        if (by_division != e4m3_from_float(x * inverse)) ++witnesses;
      }
    }
  }
  EXPECT_GT(witnesses, 0) << "found no input that tells division from a reciprocal multiply";
}

// --- every granularity ---------------------------------------------------------------------------

TEST(RefQuant, PerTensor) {
  const Floats x = {448,  -224, 1,  //
                    0.5f, 0,    -3};
  const auto out = run(spec_of(Granularity::kPerTensor), 2, 3, x);
  expect_scales(out.scales, {1.0f});
  expect_codes(out.q, {0x7E, 0xF6, 0x38, 0x30, 0x00, 0xC4}, 3);

  // The maximum sits in the second row: one amax over everything.
  const Floats y = {224, -2,  //
                    6, -896};
  const auto out2 = run(spec_of(Granularity::kPerTensor), 2, 2, y);
  expect_scales(out2.scales, {2.0f});
  expect_codes(out2.q, {0x6E, 0xB8, 0x44, 0xFE}, 2);
}

TEST(RefQuant, PerToken) {
  const Floats x = {896, -448, 2,      0,      // amax 896: s = 2
                    28,  -14,  7,      0.25f,  // amax 28: s = 1/16
                    0,   0,    -0.0f,  0,      // all zero: s = floor
                    1,   0.5f, -0.25f, 0};     // amax 1: s = 1/448, not a power of two
  const auto out = run(spec_of(Granularity::kPerToken), 4, 4, x);
  expect_scales(out.scales, {2.0f, 1.0f / 16, kFloor, 1.0f / 448.0f});
  expect_codes(out.q,
               {0x7E, 0xF6, 0x38, 0x00,  //
                0x7E, 0xF6, 0x6E, 0x48,  //
                0x00, 0x00, 0x80, 0x00,  //
                0x7E, 0x76, 0xEE, 0x00},
               4);
  EXPECT_EQ(out.geometry.rows, 4);
  EXPECT_EQ(out.geometry.cols, 1);
}

TEST(RefQuant, PerTokenWithScaleUpperBound) {
  QuantSpec spec = spec_of(Granularity::kPerToken);
  spec.scale_ub = 448.0f;
  const Floats x = {896, 448, -224, 1,   // amax 896 clamped to 448: s = 1, 896 saturates
                    224, 112, 0,    0};  // amax 224 below the bound: s = 1/2
  const auto out = run(spec, 2, 4, x);
  expect_scales(out.scales, {1.0f, 0.5f});
  expect_codes(out.q, {0x7E, 0x7E, 0xF6, 0x38, 0x7E, 0x76, 0x00, 0x00}, 4);
}

TEST(RefQuant, PerChannelWeight) {
  const Floats w = {-7, 3.5f, 1.75f,     // amax 7: s = 2^-6
                    0,  0,    0.4375f};  // amax 7/16: s = 2^-10
  const auto out = run(spec_of(Granularity::kPerChannel), 2, 3, w);
  expect_scales(out.scales, {1.0f / 64, 1.0f / 1024});
  expect_codes(out.q, {0xFE, 0x76, 0x6E, 0x00, 0x00, 0x7E}, 3);
}

// Per-group: M = 2, K = 2G. Group (r, g) has amax A[r][g]; its elements 0, 1 and G-1 hold A, -A/2
// and A/4 (-> 448, -224, 112 after scaling), the rest 0.
struct GroupCase {
  Floats x;
  Codes q;
};

GroupCase two_by_two_groups(int g) {
  const float amax[2][2] = {{448, 896}, {224, 14}};  // s = 1, 2, 1/2, 1/32
  const std::int64_t cols = 2 * g;
  GroupCase c{Floats(std::size_t(2 * cols), 0.0f), Codes(std::size_t(2 * cols), 0x00)};
  for (int r = 0; r < 2; ++r) {
    for (int grp = 0; grp < 2; ++grp) {
      const auto base = std::size_t(r * cols + grp * g);
      const float a = amax[r][grp];
      c.x[base] = a;
      c.x[base + 1] = -a / 2;
      c.x[base + std::size_t(g - 1)] = a / 4;
      c.q[base] = 0x7E;
      c.q[base + 1] = 0xF6;
      c.q[base + std::size_t(g - 1)] = 0x6E;
    }
  }
  return c;
}

TEST(RefQuant, PerGroupEveryGroupSizeAndLayout) {
  for (int g : {32, 64, 128}) {
    SCOPED_TRACE("G = " + std::to_string(g));
    const GroupCase c = two_by_two_groups(g);
    const auto row = run(per_group(g, ScaleLayout::kRowMajor), 2, 2 * g, c.x);
    expect_scales(row.scales, {1, 2, 0.5f, 1.0f / 32});
    expect_codes(row.q, c.q, 2 * g);
    const auto col = run(per_group(g, ScaleLayout::kColMajor), 2, 2 * g, c.x);
    expect_scales(col.scales, {1, 0.5f, 2, 1.0f / 32});
    expect_codes(col.q, c.q, 2 * g);
    const auto tma = run(per_group(g, ScaleLayout::kColMajorTmaAligned), 2, 2 * g, c.x);
    expect_scales(tma.scales, {1, 0.5f, 0, 0, 2, 1.0f / 32, 0, 0});
    expect_codes(tma.q, c.q, 2 * g);
  }
}

TEST(RefQuant, PerGroupTmaAlignedWithMNotAMultipleOf4) {
  // M = 5, G = 128, K = 256: s(r, 0) = 2^(r-2), s(r, 1) = 2^-r; columns padded from 5 to 8.
  const std::int64_t m = 5, k = 256;
  Floats x(std::size_t(m * k), 0.0f);
  Codes q(std::size_t(m * k), 0x00);
  for (int r = 0; r < m; ++r) {
    x[std::size_t(r * k + 3)] = std::ldexp(448.0f, r - 2);
    x[std::size_t(r * k + 200)] = -std::ldexp(448.0f, -r);
    x[std::size_t(r * k + 201)] = std::ldexp(128.0f, -r);
    q[std::size_t(r * k + 3)] = 0x7E;
    q[std::size_t(r * k + 200)] = 0xFE;
    q[std::size_t(r * k + 201)] = 0x70;
  }
  const auto out = run(per_group(128, ScaleLayout::kColMajorTmaAligned), m, k, x);
  expect_scales(out.scales, {0.25f, 0.5f, 1, 2, 4, 0, 0, 0,  //
                             1, 0.5f, 0.25f, 0.125f, 0.0625f, 0, 0, 0});
  expect_codes(out.q, q, k);
}

TEST(RefQuant, Block128WithRaggedEdges) {
  // W (N, K) = (130, 200): blocks rows {0..127, 128..129} x cols {0..127, 128..199}.
  const std::int64_t n = 130, k = 200;
  Floats w(std::size_t(n * k), 0.0f);
  Codes q(std::size_t(n * k), 0x00);
  const auto put = [&](std::int64_t r, std::int64_t c, float v, std::uint8_t code) {
    w[std::size_t(r * k + c)] = v;
    q[std::size_t(r * k + c)] = code;
  };
  put(5, 7, 448, 0x7E);  // block (0, 0): amax 448, s = 1
  put(127, 127, -224, 0xF6);
  put(0, 199, 896, 0x7E);  // block (0, 1): amax 896, s = 2
  put(127, 128, 448, 0x76);
  put(129, 0, 112, 0x7E);  // block (1, 0): amax 112, s = 1/4
  put(128, 127, -56, 0xF6);
  put(129, 199, 7, 0x7E);  // block (1, 1), the ragged corner: amax 7, s = 2^-6
  put(128, 128, 3.5f, 0x76);
  const auto out = run(spec_of(Granularity::kBlock128), n, k, w);
  // Rows of 2 scales padded to 4.
  expect_scales(out.scales, {1, 2, 0, 0, 0.25f, 1.0f / 64, 0, 0});
  expect_codes(out.q, q, k);
}

TEST(RefQuant, Block128EmptyBlockGetsTheFloor) {
  Floats w(std::size_t(130 * 128), 0.0f);
  w[0] = 448;
  const auto out = run(spec_of(Granularity::kBlock128), 130, 128, w);
  expect_scales(out.scales, {1, 0, 0, 0, kFloor, 0, 0, 0});
}

TEST(RefQuant, UE8M0Scales) {
  QuantSpec spec = spec_of(Granularity::kPerToken);
  spec.ue8m0 = true;
  const Floats x = {1,    0.5f, -0.75f,  // s = 2^-8: 256, 128, -192
                    448,  0,    0,       // s = 1
                    0,    0,    0,       // floor 1/229376 -> 2^-17
                    1344, 0,    0};      // 1344/448 = 3 -> 4; 1344/4 = 336 ties 320|352 -> 320
  const auto out = run(spec, 4, 3, x);
  expect_scales(out.scales, {std::ldexp(1.0f, -8), 1, std::ldexp(1.0f, -17), 4});
  expect_codes(out.q, {0x78, 0x70, 0xF4, 0x7E, 0, 0, 0, 0, 0, 0x7A, 0, 0}, 3);

  QuantSpec group = per_group(32, ScaleLayout::kColMajorTmaAligned);
  group.ue8m0 = true;
  Floats y(32, 0.0f);
  y[9] = 3;  // 3/448 -> 2^-7; 3 / 2^-7 = 384
  const auto out2 = run(group, 1, 32, y);
  expect_scales(out2.scales, {std::ldexp(1.0f, -7), 0, 0, 0});
  EXPECT_EQ(out2.q[9], 0x7C);

  QuantSpec block = spec_of(Granularity::kBlock128);
  block.ue8m0 = true;
  Floats w(std::size_t(2 * 130), 0.0f);
  w[129] = 1;  // block (0, 1): 1/448 -> 2^-8
  const auto out3 = run(block, 2, 130, w);
  expect_scales(out3.scales, {std::ldexp(1.0f, -17), std::ldexp(1.0f, -8), 0, 0});
  EXPECT_EQ(out3.q[129], 0x78);
}
}  // namespace
}  // namespace fp8kit
