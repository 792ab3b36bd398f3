// The tuner's search space: GemmSearchSpace's configs (count, order, validity) and the split-K
// variants the tuner adds per shape.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

using test::gemm_config;

TEST(GemmSearchSpace, CountAndValidity) {
  const auto space = gemm_search_space();
  EXPECT_EQ(space.size(), kDefaultGemmSearchSpaceSize);
  EXPECT_EQ(space.size(), 915u);  // of 5 * 16 * 9 * 2 * 2 * 2 = 5760 declared
  for (const auto& c : space) {
    EXPECT_TRUE(is_valid(c)) << to_string(c);
    EXPECT_EQ(c.mode_a, ScaleModeA::kGroup128);
    EXPECT_EQ(c.mode_b, ScaleModeB::kBlock128);
    EXPECT_EQ(c.out, DType::kBFloat16);
  }
  // DESIGN.md's example and DeepGEMM's favourite shapes are in; the over-budget ones are not.
  EXPECT_NE(std::find(space.begin(), space.end(), GemmConfig{}), space.end());
  EXPECT_NE(std::find(space.begin(), space.end(), gemm_config(64, 128, 8, 1)), space.end());
  EXPECT_EQ(std::find(space.begin(), space.end(), gemm_config(128, 256, 2, 2)), space.end());
  // Every declared value of block_n that survives has a wgmma wrapper (multiples of 16 <= 256).
  std::set<int> widths;
  for (const auto& c : space) widths.insert(c.block_n);
  EXPECT_EQ(widths, (std::set<int>{16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 192}));
}

TEST(GemmSearchSpace, StableOrderNoDuplicatesUniqueNames) {
  const auto space = gemm_search_space();
  EXPECT_EQ(space, gemm_search_space());
  EXPECT_EQ(kernel_name(space.front()), "sm90_fp8_gemm_a-group128_b-block128_bf16_m16n16k128_s3_wg1_c1");
  EXPECT_EQ(kernel_name(space.back()), "sm90_fp8_gemm_a-group128_b-block128_bf16_m256n128k128_s3_wg2_c2");
  EXPECT_EQ(kernel_name(space[space.size() - 2]), "sm90_fp8_gemm_a-group128_b-block128_bf16_m256n128k128_s3_wg2_cn2");
  // Nested-loop order: (block_m, block_n, stages, warpgroups, cluster_m, cluster_n) strictly
  // increases, since every default list is ascending.
  for (std::size_t i = 1; i < space.size(); ++i) {
    const auto& p = space[i - 1];
    const auto& c = space[i];
    EXPECT_LT(std::tie(p.block_m, p.block_n, p.stages, p.consumer_warpgroups, p.cluster_m, p.cluster_n),
              std::tie(c.block_m, c.block_n, c.stages, c.consumer_warpgroups, c.cluster_m, c.cluster_n))
        << i;
  }
  std::set<std::string> names;
  for (const auto& c : space) names.insert(kernel_name(c));
  EXPECT_EQ(names.size(), space.size());
}

TEST(GemmSearchSpace, DuplicatesInTheDeclarationAreKeptOnce) {
  GemmSearchSpace twice;
  twice.block_m = {128, 64, 128};
  twice.stages = {4, 4, 3};
  GemmSearchSpace once;
  once.block_m = {128, 64};
  once.stages = {4, 3};
  const auto a = gemm_search_space(twice);
  EXPECT_EQ(a, gemm_search_space(once));
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.front().block_m, 128);  // first position wins
  EXPECT_EQ(a.front().stages, 4);
}

TEST(GemmSearchSpace, RunTimeGroupSizesShareKernels) {
  GemmSearchSpace s;
  s.group_size_m = {1, 8, 16};
  const auto space = gemm_search_space(s);
  std::map<std::string, int> per_name;
  std::map<std::string, int> cluster_of;
  for (const auto& c : space) {
    ++per_name[kernel_name(c)];
    cluster_of[kernel_name(c)] = c.cluster_m;
  }
  EXPECT_EQ(per_name.size(), kDefaultGemmSearchSpaceSize);
  // group_size_m = 1 cannot hold a cluster pair: cluster-2 kernels come with 8 and 16 only.
  std::size_t expected = 0;
  for (const auto& [name, n] : per_name) {
    EXPECT_EQ(n, cluster_of[name] == 1 ? 3 : 2) << name;
    expected += cluster_of[name] == 1 ? 3 : 2;
  }
  EXPECT_EQ(space.size(), expected);
  for (const auto& c : space) EXPECT_EQ(c.group_size_m % c.cluster_m, 0) << to_string(c);
}

TEST(GemmSearchSpace, OtherScalePairsAndOutputs) {
  GemmSearchSpace s;
  s.mode_a = ScaleModeA::kToken;
  s.mode_b = ScaleModeB::kChannel;
  s.fast_accum = true;
  const auto unpromoted = gemm_search_space(s);
  EXPECT_EQ(unpromoted.size(), 1005u);  // no scratch accumulator, no scale-span rule: more fit
  for (const auto& c : unpromoted) EXPECT_FALSE(gemm_needs_promotion(c));
  s.fast_accum = false;  // the exact path: a scratch accumulator, unit scales, no scale-span rule
  const auto exact = gemm_search_space(s);
  EXPECT_GT(exact.size(), 0u);
  EXPECT_LT(exact.size(), unpromoted.size());
  for (const auto& c : exact) EXPECT_TRUE(gemm_needs_promotion(c) && !c.fast_accum);
  s.out = DType::kE4M3;
  EXPECT_TRUE(gemm_search_space(s).empty());
}

// The tuner's split-K variants: 2.. while the units fit one wave and each split keeps 8+ K blocks,
// each through the workspace and as a split cluster; none where the tiles alone fill half the SMs,
// for a cluster or a config already split.
TEST(GemmConfigRules, SplitKVariantsForTheTuner) {
  const auto splits = [](const GemmConfig& c, const GemmShape& s) {
    std::vector<int> v, in_cluster;
    for (const GemmConfig& x : split_k_variants(c, s, 132)) (x.split_cluster ? in_cluster : v).push_back(x.split_k);
    EXPECT_EQ(v, in_cluster) << to_string(c);
    return v;
  };
  const GemmConfig m64n32 = gemm_config(64, 32, 8, 1);
  EXPECT_EQ(splits(m64n32, {16, 576, 7168}), (std::vector<int>{2, 3, 4, 5, 6, 7}));  // 18 tiles, 56 K blocks
  EXPECT_EQ(splits(m64n32, {16, 576, 1536}), (std::vector<int>{}));                  // 12 K blocks
  EXPECT_EQ(splits(m64n32, {16, 4096, 7168}), (std::vector<int>{}));                 // 128 tiles
  EXPECT_EQ(splits(m64n32, {16, 2048, 7168}), (std::vector<int>{2}));                // 64 tiles
  EXPECT_EQ(splits(gemm_config(128, 128, 4, 2, 2), {128, 512, 7168}), (std::vector<int>{}));
  for (const GemmConfig& v : split_k_variants(m64n32, {16, 576, 7168}, 132)) {
    EXPECT_TRUE(is_valid(v, {16, 576, 7168})) << to_string(v);
    EXPECT_TRUE(split_k_variants(v, {16, 576, 7168}, 132).empty());
  }
}

}  // namespace
}  // namespace fp8kit
