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

#include "core/fp8_codec.hpp"
#include "core/ref_quant.hpp"

namespace fp8kit {
namespace {

using Codes = std::vector<std::uint8_t>;
using Floats = std::vector<float>;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// 1 / (448 * 512) = 1 / 229376, the floor of every dynamic scale.
const float kFloor = 1.0f / 229376.0f;

template <typename F>
void expect_invalid(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' missing from: " << e.what();
    }
  }
}

QuantSpec spec_of(Granularity g) {
  QuantSpec s;
  s.granularity = g;
  return s;
}

QuantSpec per_group(int g, ScaleLayout layout) {
  QuantSpec s = spec_of(Granularity::kPerGroup);
  s.group_size = g;
  s.layout = layout;
  return s;
}

// Quantizes a contiguous fp32 matrix given row by row.
ref::QuantOutput run(const QuantSpec& spec, std::int64_t rows, std::int64_t cols, const Floats& x,
                     std::span<const float> static_scales = {}) {
  return ref::quantize(x.data(), DType::kFloat32, rows, cols, cols, spec, static_scales);
}

// Compares scales bit for bit (padding zeros and Inf included).
void expect_scales(const Floats& got, const Floats& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(want[i]))
        << "scale " << i << ": got " << got[i] << ", want " << want[i];
  }
}

void expect_codes(const Codes& got, const Codes& want, std::int64_t cols) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(int(got[i]), int(want[i]))
        << "element (" << std::int64_t(i) / cols << ", " << std::int64_t(i) % cols << ")";
  }
}

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

// --- static scales
// --------------------------------------------------------------------------------

TEST(RefQuant, StaticPerTensor) {
  QuantSpec spec = spec_of(Granularity::kPerTensor);
  spec.static_scales = true;
  const Floats x = {1, -2, 100, 300};  // / 0.5: 2, -4, 200 (ties 192|208 -> 192), 600 saturates
  const Floats s = {0.5f};
  const auto out = run(spec, 2, 2, x, s);
  expect_scales(out.scales, {0.5f});
  expect_codes(out.q, {0x40, 0xC8, 0x74, 0x7E}, 2);
}

TEST(RefQuant, StaticPerTokenIsUsedAsGivenEvenWithUE8M0) {
  QuantSpec spec = spec_of(Granularity::kPerToken);
  spec.static_scales = true;
  spec.ue8m0 = true;  // applies to computed scales only
  const Floats x = {4, 0.5f, 0.3f, -0.6f};
  const Floats s = {1, 0.3f};
  const auto out = run(spec, 2, 2, x, s);
  expect_scales(out.scales, {1, 0.3f});
  expect_codes(out.q, {0x48, 0x30, 0x38, 0xC0}, 2);
}

TEST(RefQuant, StaticPerGroupInEachLayout) {
  // M = 2, K = 64, G = 32. Every group's first element is 8; s(r, g) = {{1, 2}, {1/2, 4}}.
  Floats x(128, 0.0f);
  x[0] = x[32] = x[64] = x[96] = 8;
  const Codes expected_first = {0x50, 0x48, 0x58, 0x40};  // 8, 4, 16, 2
  struct LayoutCase {
    ScaleLayout layout;
    Floats given;
    Floats written;
  };
  const LayoutCase cases[] = {
      {ScaleLayout::kRowMajor, {1, 2, 0.5f, 4}, {1, 2, 0.5f, 4}},
      {ScaleLayout::kColMajor, {1, 0.5f, 2, 4}, {1, 0.5f, 2, 4}},
      // Padding of the given buffer is ignored and written back as 0.
      {ScaleLayout::kColMajorTmaAligned,
       {1, 0.5f, 99, 99, 2, 4, 99, 99},
       {1, 0.5f, 0, 0, 2, 4, 0, 0}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(scale_layout_name(c.layout)));
    QuantSpec spec = per_group(32, c.layout);
    spec.static_scales = true;
    const auto out = run(spec, 2, 64, x, c.given);
    expect_scales(out.scales, c.written);
    EXPECT_EQ(out.q[0], expected_first[0]);
    EXPECT_EQ(out.q[32], expected_first[1]);
    EXPECT_EQ(out.q[64], expected_first[2]);
    EXPECT_EQ(out.q[96], expected_first[3]);
    for (std::size_t i = 0; i < out.q.size(); ++i) {
      if (i % 32 != 0) {
        EXPECT_EQ(out.q[i], 0x00) << i;
      }
    }
  }
}

TEST(RefQuant, StaticScaleCountIsChecked) {
  QuantSpec spec = per_group(32, ScaleLayout::kColMajorTmaAligned);
  spec.static_scales = true;
  const Floats x(128, 0.0f);
  const Floats three = {1, 1, 1};
  expect_invalid([&] { run(spec, 2, 64, x, three); }, {"static_scales has 3 values", "needs 8"});
  expect_invalid([&] { run(spec, 2, 64, x); }, {"static_scales has 0 values"});
  const Floats one = {1};
  expect_invalid([&] { run(spec_of(Granularity::kPerToken), 2, 64, x, one); },
                 {"spec.static_scales is false"});
}

// --- input dtypes and strides -------------------------------------------------------------------

TEST(RefQuant, HalfInputsIncludingSubnormals) {
  // Row 0: 448, -224, 1 (s = 1). Row 1: 2^-24, -2^-23, 0: amax is tiny, s is the floor and
  // x / s = 7 * 2^-9 and -14 * 2^-9 (the largest E4M3 subnormal and -1.75 * 2^-6).
  const std::vector<std::uint16_t> x = {0x5F00, 0xDB00, 0x3C00, 0x0001, 0x8002, 0x0000};
  const auto out =
      ref::quantize(x.data(), DType::kFloat16, 2, 3, 3, spec_of(Granularity::kPerToken));
  expect_scales(out.scales, {1, kFloor});
  expect_codes(out.q, {0x7E, 0xF6, 0x38, 0x07, 0x8E, 0x00}, 3);
}

TEST(RefQuant, BFloat16Inputs) {
  // Row 0: 448, -224, 1. Row 1: 3, 1.5, -0.75 (s = 3/448). Row 2: 2^100 (s = 2^100 / 448).
  const std::vector<std::uint16_t> x = {0x43E0, 0xC360, 0x3F80, 0x4040, 0x3FC0,
                                        0xBF40, 0x7180, 0x0000, 0x0000};
  const auto out =
      ref::quantize(x.data(), DType::kBFloat16, 3, 3, 3, spec_of(Granularity::kPerToken));
  expect_scales(out.scales, {1, 3.0f / 448.0f, std::ldexp(1.0f, 100) / 448.0f});
  expect_codes(out.q, {0x7E, 0xF6, 0x38, 0x7E, 0x76, 0xEE, 0x7E, 0x00, 0x00}, 3);
}

TEST(RefQuant, RowStrideSkipsPadding) {
  // 2 x 3 inside rows of 5; the padding holds values that would change every scale if read.
  const Floats x = {448, 1, -0.5f, 1e30f,  kNaN,  //
                    28,  7, 0,     -1e30f, kInf};
  const auto out =
      ref::quantize(x.data(), DType::kFloat32, 2, 3, 5, spec_of(Granularity::kPerToken));
  expect_scales(out.scales, {1, 1.0f / 16});
  expect_codes(out.q, {0x7E, 0x38, 0xB0, 0x7E, 0x6E, 0x00}, 3);

  const auto view = TensorView::matrix(const_cast<float*>(x.data()), DType::kFloat32, 2, 3, 5);
  const auto out2 = ref::quantize(view, spec_of(Granularity::kPerToken));
  EXPECT_EQ(out2.q, out.q);
  expect_scales(out2.scales, out.scales);
}

// --- NaN, Inf, empty -----------------------------------------------------------------------------

TEST(RefQuant, NaNIsIgnoredByAmaxAndEncodesAs0x7F) {
  const Floats x = {kNaN, 2,    -1,    -kNaN,  // amax 2: s = 2/448
                    kNaN, kNaN, -kNaN, kNaN};  // all NaN: amax 0, s = floor
  const auto out = run(spec_of(Granularity::kPerToken), 2, 4, x);
  expect_scales(out.scales, {2.0f / 448.0f, kFloor});
  expect_codes(out.q, {0x7F, 0x7E, 0xF6, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F}, 4);
}

TEST(RefQuant, InfMakesTheScaleInf) {
  const Floats x = {kInf,  1, -1, -0.0f,  // s = Inf: finite -> signed 0, Inf -> Inf/Inf = NaN
                    -kInf, 5, 0,  0};
  const auto out = run(spec_of(Granularity::kPerToken), 2, 4, x);
  expect_scales(out.scales, {kInf, kInf});
  expect_codes(out.q, {0x7F, 0x00, 0x80, 0x80, 0x7F, 0x00, 0x00, 0x00}, 4);

  QuantSpec ue8m0 = spec_of(Granularity::kPerTensor);
  ue8m0.ue8m0 = true;
  const auto out2 = run(ue8m0, 2, 4, x);
  expect_scales(out2.scales, {kInf});
  EXPECT_EQ(out2.q[0], 0x7F);
  EXPECT_EQ(out2.q[1], 0x00);

  // With scale_ub the amax is finite again: Inf / s = Inf saturates to 448.
  QuantSpec bounded = spec_of(Granularity::kPerToken);
  bounded.scale_ub = 1200.0f;
  const Floats y = {kInf, -kInf, 1200};
  const auto out3 = run(bounded, 1, 3, y);
  expect_scales(out3.scales, {1200.0f / 448.0f});
  expect_codes(out3.q, {0x7E, 0xFE, 0x7E}, 3);
}

TEST(RefQuant, EmptyInputs) {
  const auto token =
      ref::quantize(nullptr, DType::kBFloat16, 0, 7168, 7168, spec_of(Granularity::kPerToken));
  EXPECT_TRUE(token.q.empty());
  EXPECT_TRUE(token.scales.empty());
  const auto tma = ref::quantize(nullptr, DType::kFloat16, 0, 256, 256,
                                 per_group(128, ScaleLayout::kColMajorTmaAligned));
  EXPECT_TRUE(tma.q.empty());
  EXPECT_TRUE(tma.scales.empty());
  EXPECT_EQ(tma.geometry.cols, 2);
  const auto tensor =
      ref::quantize(nullptr, DType::kFloat32, 0, 16, 16, spec_of(Granularity::kPerTensor));
  expect_scales(tensor.scales, {kFloor});
  // K = 0: every row is empty, so every scale is the floor.
  const auto no_cols =
      ref::quantize(nullptr, DType::kFloat32, 3, 0, 0, spec_of(Granularity::kPerToken));
  expect_scales(no_cols.scales, {kFloor, kFloor, kFloor});
}

// --- bad input
// ------------------------------------------------------------------------------------

TEST(RefQuant, RejectsBadInput) {
  const Floats x(64 * 4, 1.0f);
  expect_invalid(
      [&] { ref::quantize(x.data(), DType::kFloat32, 2, 3, 2, spec_of(Granularity::kPerToken)); },
      {"row_stride = 2", "cols = 3"});
  expect_invalid(
      [&] { ref::quantize(x.data(), DType::kE4M3, 2, 3, 3, spec_of(Granularity::kPerToken)); },
      {"input dtype e4m3"});
  expect_invalid(
      [&] { ref::quantize(nullptr, DType::kFloat32, 2, 3, 3, spec_of(Granularity::kPerToken)); },
      {"x is null"});
  expect_invalid([&] { run(per_group(64, ScaleLayout::kRowMajor), 2, 96, x); },
                 {"cols (K) = 96", "K % G == 0"});
  QuantSpec static_block = spec_of(Granularity::kBlock128);
  static_block.static_scales = true;
  expect_invalid([&] { run(static_block, 1, 128, x, Floats{1}); }, {"static", "block128"});

  TensorView rank3 =
      TensorView::contiguous(const_cast<float*>(x.data()), DType::kFloat32, {2, 2, 2});
  expect_invalid([&] { ref::quantize(rank3, spec_of(Granularity::kPerToken)); }, {"rank 2"});
  TensorView strided = TensorView::matrix(const_cast<float*>(x.data()), DType::kFloat32, 2, 4, 8);
  strided.strides[1] = 2;
  expect_invalid([&] { ref::quantize(strided, spec_of(Granularity::kPerToken)); },
                 {"unit column stride"});
}

// --- properties on random data
// ---------------------------------------------------------------------

TEST(RefQuant, ScaleOffsetMapsElementsToTheirCell) {
  const auto col = per_group(64, ScaleLayout::kColMajor);
  const auto geo = scale_geometry(col, 5, 256);
  EXPECT_EQ(ref::scale_offset(col, geo, 3, 130), 3 + 2 * 5);
  const auto tma = per_group(64, ScaleLayout::kColMajorTmaAligned);
  EXPECT_EQ(ref::scale_offset(tma, scale_geometry(tma, 5, 256), 3, 255), 3 + 3 * 8);
  const auto block = spec_of(Granularity::kBlock128);
  EXPECT_EQ(ref::scale_offset(block, scale_geometry(block, 300, 640), 299, 600), 2 * 8 + 4);
  const auto token = spec_of(Granularity::kPerToken);
  EXPECT_EQ(ref::scale_offset(token, scale_geometry(token, 9, 10), 7, 9), 7);
  const auto tensor = spec_of(Granularity::kPerTensor);
  EXPECT_EQ(ref::scale_offset(tensor, scale_geometry(tensor, 9, 10), 7, 9), 0);
}

TEST(RefQuant, RandomGroupsMatchFirstPrinciples) {
  // Each group's scale is its amax / 448 (computed here with an explicit loop); the amax element
  // becomes ±448; every code is the nearest E4M3 value to x / s.
  std::mt19937 rng(20240611);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const std::int64_t m = 37, k = 512, g = 128;
  Floats x(std::size_t(m * k));
  for (auto& v : x) v = dist(rng);
  for (bool ue8m0 : {false, true}) {
    SCOPED_TRACE(ue8m0 ? "ue8m0" : "fp32 scales");
    QuantSpec spec = per_group(int(g), ScaleLayout::kColMajorTmaAligned);
    spec.ue8m0 = ue8m0;
    const auto out = run(spec, m, k, x);
    ASSERT_EQ(out.scales.size(), std::size_t(40 * 4));
    for (std::int64_t r = 0; r < m; ++r) {
      for (std::int64_t grp = 0; grp < k / g; ++grp) {
        float amax = 0;
        std::int64_t arg = 0;
        for (std::int64_t c = grp * g; c < (grp + 1) * g; ++c) {
          if (std::fabs(x[std::size_t(r * k + c)]) > amax) {
            amax = std::fabs(x[std::size_t(r * k + c)]);
            arg = c;
          }
        }
        const float s = out.scales[std::size_t(r + grp * 40)];
        const float plain = amax / 448.0f;
        if (ue8m0) {
          int e = 0;
          ASSERT_EQ(std::frexp(s, &e), 0.5f) << "not a power of two: " << s;
          ASSERT_GE(s, plain);
          ASSERT_LT(s, 2 * plain);
        } else {
          ASSERT_EQ(s, plain);
          const std::uint8_t top = out.q[std::size_t(r * k + arg)];
          ASSERT_EQ(top & 0x7F, 0x7E) << "the amax element should map to 448";
        }
        for (std::int64_t c = grp * g; c < (grp + 1) * g; ++c) {
          const std::uint8_t code = out.q[std::size_t(r * k + c)];
          const float y = x[std::size_t(r * k + c)] / s;
          const float got = e4m3_to_float(code);
          ASSERT_EQ(std::signbit(got), std::signbit(y));
          // No other finite code of the same sign is nearer.
          const int base = code & 0x80;
          for (int other = 0; other <= 0x7E; ++other) {
            const float v = e4m3_to_float(std::uint8_t(base | other));
            ASSERT_LE(std::fabs(got - y), std::fabs(v - y)) << "row " << r << " col " << c;
          }
        }
      }
    }
    for (std::int64_t pad = 37; pad < 40; ++pad) {
      for (std::int64_t grp = 0; grp < 4; ++grp) {
        EXPECT_EQ(out.scales[std::size_t(pad + grp * 40)], 0.0f);
      }
    }
  }
}

}  // namespace
}  // namespace fp8kit
