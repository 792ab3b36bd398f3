// QuantSpec names, validity rules and scale geometry, against hand-computed numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "common/ref_quant_checks.hpp"
#include "fp8kit/quant.hpp"

namespace fp8kit {
namespace {

using test::expect_invalid;

QuantSpec per_group(int g, ScaleLayout layout = ScaleLayout::kRowMajor) {
  QuantSpec s;
  s.granularity = Granularity::kPerGroup;
  s.group_size = g;
  s.layout = layout;
  return s;
}

QuantSpec with_granularity(Granularity g) {
  QuantSpec s;
  s.granularity = g;
  return s;
}

void expect_geometry(const ScaleGeometry& g, std::int64_t rows, std::int64_t cols,
                     std::int64_t row_stride, std::int64_t col_stride, std::int64_t alloc) {
  EXPECT_EQ(g.rows, rows);
  EXPECT_EQ(g.cols, cols);
  EXPECT_EQ(g.row_stride, row_stride);
  EXPECT_EQ(g.col_stride, col_stride);
  EXPECT_EQ(g.alloc_elems, alloc);
}

TEST(QuantSpec, Names) {
  EXPECT_EQ(granularity_name(Granularity::kPerTensor), "per-tensor");
  EXPECT_EQ(granularity_name(Granularity::kPerToken), "per-token");
  EXPECT_EQ(granularity_name(Granularity::kPerChannel), "per-channel");
  EXPECT_EQ(granularity_name(Granularity::kPerGroup), "per-group");
  EXPECT_EQ(granularity_name(Granularity::kBlock128), "block128");
  EXPECT_EQ(scale_layout_name(ScaleLayout::kRowMajor), "row-major");
  EXPECT_EQ(scale_layout_name(ScaleLayout::kColMajor), "col-major");
  EXPECT_EQ(scale_layout_name(ScaleLayout::kColMajorTmaAligned), "col-major-tma");
}

TEST(QuantSpec, Describe) {
  auto g = per_group(128, ScaleLayout::kColMajorTmaAligned);
  g.ue8m0 = true;
  EXPECT_EQ(g.describe(), "per-group128 col-major-tma ue8m0");
  EXPECT_EQ(per_group(64).describe(), "per-group64 row-major");
  auto t = with_granularity(Granularity::kPerToken);
  t.scale_ub = 1200.0f;
  EXPECT_EQ(t.describe(), "per-token scale_ub=1200");
  auto st = with_granularity(Granularity::kPerTensor);
  st.static_scales = true;
  EXPECT_EQ(st.describe(), "per-tensor static");
  EXPECT_EQ(with_granularity(Granularity::kBlock128).describe(), "block128");
  EXPECT_EQ(with_granularity(Granularity::kPerChannel).describe(), "per-channel");
}

TEST(QuantSpec, PerGroupNeedsSupportedGAndDivisibleK) {
  for (int g : {32, 64, 128}) EXPECT_NO_THROW(validate(per_group(g), 3, 256));
  expect_invalid([] { validate(per_group(64), 4, 100); },
                 {"cols (K) = 100", "group_size 64", "K % G == 0"});
  expect_invalid([] { validate(per_group(16), 4, 256); }, {"group_size = 16", "32, 64, 128"});
  expect_invalid([] { validate(per_group(256), 4, 256); }, {"group_size = 256"});
  EXPECT_NO_THROW(validate(per_group(128), 0, 0));
  // group_size only matters for per-group.
  auto t = with_granularity(Granularity::kPerToken);
  t.group_size = 7;
  EXPECT_NO_THROW(validate(t, 3, 100));
}

TEST(QuantSpec, ScaleUbOnlyWithDynamicPerToken) {
  auto t = with_granularity(Granularity::kPerToken);
  t.scale_ub = 1200.0f;
  EXPECT_NO_THROW(validate(t, 4, 100));
  for (Granularity g :
       {Granularity::kPerTensor, Granularity::kPerChannel, Granularity::kBlock128}) {
    auto s = with_granularity(g);
    s.scale_ub = 1.0f;
    expect_invalid([&] { validate(s, 256, 256); }, {"scale_ub", "per-token"});
  }
  auto pg = per_group(128);
  pg.scale_ub = 1.0f;
  expect_invalid([&] { validate(pg, 4, 256); }, {"scale_ub", "per-group"});
  auto st = t;
  st.static_scales = true;
  expect_invalid([&] { validate(st, 4, 100); }, {"scale_ub", "static"});
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    auto s = t;
    s.scale_ub = bad;
    expect_invalid([&] { validate(s, 4, 100); }, {"scale_ub", "positive finite"});
  }
}

TEST(QuantSpec, ColumnMajorLayoutsOnlyForPerGroup) {
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel,
                        Granularity::kBlock128}) {
    for (ScaleLayout l : {ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      auto s = with_granularity(g);
      s.layout = l;
      expect_invalid(
          [&] { validate(s, 256, 256); },
          {std::string(scale_layout_name(l)), "per-group", std::string(granularity_name(g))});
    }
  }
}

TEST(QuantSpec, StaticScalesForTensorTokenAndGroupOnly) {
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerGroup}) {
    auto s = with_granularity(g);
    s.static_scales = true;
    EXPECT_NO_THROW(validate(s, 256, 256));
  }
  for (Granularity g : {Granularity::kPerChannel, Granularity::kBlock128}) {
    auto s = with_granularity(g);
    s.static_scales = true;
    expect_invalid([&] { validate(s, 256, 256); }, {"static", std::string(granularity_name(g))});
  }
}

TEST(QuantSpec, UE8M0AllowedEverywhere) {
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel,
                        Granularity::kPerGroup, Granularity::kBlock128}) {
    auto s = with_granularity(g);
    s.ue8m0 = true;
    EXPECT_NO_THROW(validate(s, 300, 256)) << granularity_name(g);
  }
}

TEST(QuantSpec, RejectsNegativeShapesAndUnknownEnums) {
  expect_invalid([] { validate(with_granularity(Granularity::kPerToken), -1, 4); }, {"negative"});
  expect_invalid([] { validate(with_granularity(Granularity::kPerToken), 1, -4); }, {"negative"});
  auto s = with_granularity(static_cast<Granularity>(42));
  expect_invalid([&] { validate(s, 1, 1); }, {"42", "Granularity"});
  auto l = per_group(128);
  l.layout = static_cast<ScaleLayout>(9);
  expect_invalid([&] { validate(l, 1, 128); }, {"9", "ScaleLayout"});
}

TEST(ScaleGeometry, TensorTokenChannel) {
  expect_geometry(scale_geometry(with_granularity(Granularity::kPerTensor), 7, 100), 1, 1, 1, 1, 1);
  expect_geometry(scale_geometry(with_granularity(Granularity::kPerTensor), 0, 100), 1, 1, 1, 1, 1);
  expect_geometry(scale_geometry(with_granularity(Granularity::kPerToken), 7, 100), 7, 1, 1, 1, 7);
  expect_geometry(scale_geometry(with_granularity(Granularity::kPerToken), 0, 100), 0, 1, 1, 1, 0);
  expect_geometry(scale_geometry(with_granularity(Granularity::kPerChannel), 4096, 7168), 4096, 1,
                  1, 1, 4096);
}

TEST(ScaleGeometry, PerGroupLayouts) {
  // M = 5, K = 256, G = 64: 4 groups per row.
  expect_geometry(scale_geometry(per_group(64, ScaleLayout::kRowMajor), 5, 256), 5, 4, 4, 1, 20);
  expect_geometry(scale_geometry(per_group(64, ScaleLayout::kColMajor), 5, 256), 5, 4, 1, 5, 20);
  // TMA-aligned: columns padded from 5 to 8 entries.
  expect_geometry(scale_geometry(per_group(64, ScaleLayout::kColMajorTmaAligned), 5, 256), 5, 4, 1,
                  8, 32);
  expect_geometry(scale_geometry(per_group(128, ScaleLayout::kColMajorTmaAligned), 8, 7168), 8, 56,
                  1, 8, 448);
  expect_geometry(scale_geometry(per_group(32, ScaleLayout::kColMajorTmaAligned), 1, 64), 1, 2, 1,
                  4, 8);
  expect_geometry(scale_geometry(per_group(128, ScaleLayout::kColMajorTmaAligned), 0, 256), 0, 2, 1,
                  0, 0);
  const auto g = scale_geometry(per_group(64, ScaleLayout::kColMajor), 5, 256);
  EXPECT_EQ(g.offset(2, 3), 2 + 3 * 5);
}

TEST(ScaleGeometry, Block128WithRaggedEdges) {
  const auto block = with_granularity(Granularity::kBlock128);
  // (N, K) = (130, 200): 2 x 2 blocks; rows padded to 4 entries (16 bytes).
  expect_geometry(scale_geometry(block, 130, 200), 2, 2, 4, 1, 8);
  // (300, 1000): 3 x 8 blocks, already a multiple of 4.
  expect_geometry(scale_geometry(block, 300, 1000), 3, 8, 8, 1, 24);
  // (7168, 640): 56 x 5 blocks, rows padded to 8.
  expect_geometry(scale_geometry(block, 7168, 640), 56, 5, 8, 1, 448);
  expect_geometry(scale_geometry(block, 128, 128), 1, 1, 4, 1, 4);
  expect_geometry(scale_geometry(block, 0, 0), 0, 0, 0, 1, 0);
}

TEST(ScaleGeometry, ValidatesFirst) {
  expect_invalid([] { scale_geometry(per_group(128), 2, 100); }, {"K % G == 0"});
}

}  // namespace
}  // namespace fp8kit
