// CPU reference quantizers, continued: static scales, input dtypes and strides, NaN / Inf / empty
// input, bad input, and properties on random data (E4M3 codes as in test_ref_quant.cpp).
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
