// GemmConfig: the variants of one tile that change its kernel, split-K and fast accumulation.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"

namespace fp8kit {
namespace {

using test::expect_only_rule;
using test::expect_valid;
using test::gemm_config;

TEST(GemmConfigRules, SplitK) {
  GemmConfig c = gemm_config(64, 32, 8, 1);
  c.split_k = 4;
  expect_valid(c);
  EXPECT_EQ(kernel_name(c), "sm90_fp8_gemm_a-group128_b-block128_bf16_m64n32k128_s8_wg1_c1_sk4");
  EXPECT_NE(std::hash<GemmConfig>{}(c), std::hash<GemmConfig>{}(gemm_config(64, 32, 8, 1)));
  EXPECT_EQ(gemm_epilogue_out(c), DType::kFloat32);  // fp32 partials, whatever the out dtype
  EXPECT_EQ(gemm_smem_layout(c).epilogue, 64 * 32 * 4);
  EXPECT_TRUE(is_valid(c, {1, 576, 7168}));
  EXPECT_FALSE(is_valid(c, {1, 576, 384}));  // 3 K blocks: a fourth split would be empty
  c.split_k = 3;
  EXPECT_TRUE(is_valid(c, {1, 576, 384}));
  c.split_k = 5;
  EXPECT_FALSE(is_valid(c, {1, 576, 640 + 128}));  // 6 blocks: 2 + 2 + 2, the fourth and fifth empty
  for (int bad : {0, kMaxSplitK + 1}) {
    c.split_k = bad;
    expect_only_rule(c, "split_k");
  }
  GemmConfig clustered = gemm_config(128, 128, 4, 2, 2);
  clustered.split_k = 2;
  expect_only_rule(clustered, "split_k");
}

// A split cluster: a kernel of its own (_sk<n>cl) launched as a cluster of split_k CTAs, writing D
// itself (nothing staged, the out dtype's epilogue); split_k 2..8 and a partial tile that fits the ring.
TEST(GemmConfigRules, SplitCluster) {
  GemmConfig c = gemm_config(16, 64, 16, 1);
  c.split_k = 4;
  const GemmConfig workspace = c;
  c.split_cluster = 1;
  expect_valid(c);
  EXPECT_EQ(kernel_name(c), "sm90_fp8_gemm_a-group128_b-block128_bf16_m16n64k128_s16_wg1_c1_sk4cl");
  EXPECT_NE(to_string(c).find("split_cluster=1"), std::string::npos) << to_string(c);
  EXPECT_EQ(to_string(workspace).find("split_cluster"), std::string::npos);
  EXPECT_NE(std::hash<GemmConfig>{}(c), std::hash<GemmConfig>{}(workspace));
  EXPECT_EQ(gemm_epilogue_out(c), DType::kBFloat16);
  EXPECT_EQ(gemm_smem_layout(c).epilogue, 0);
  EXPECT_EQ(gemm_smem_layout(c).total, gemm_smem_layout(workspace).total - 16 * 64 * 4);
  EXPECT_EQ(gemm_cluster_size(c), 1);  // no multicast
  EXPECT_EQ(gemm_launch_cluster_size(c), 4);
  EXPECT_EQ(gemm_launch_cluster_size(workspace), 1);
  EXPECT_TRUE(is_valid(c, {1, 576, 7168}));
  EXPECT_FALSE(is_valid(c, {1, 576, 384}));  // the split-K rules hold as well
  for (int bad : {1, kMaxSplitCluster + 1}) {
    c.split_k = bad;
    expect_only_rule(c, "split_cluster");
  }
  c.split_k = 4;
  c.split_cluster = 2;
  expect_only_rule(c, "split_cluster");
  // m256n128 with 2 stages: a 139264-byte partial over a 98304-byte ring.
  GemmConfig wide = gemm_config(256, 128, 2, 2);
  wide.split_k = 2;
  expect_valid(wide);
  wide.split_cluster = 1;
  expect_only_rule(wide, "shared memory");
  wide.stages = 3;
  expect_valid(wide);
}

// Fast accumulation: a kernel of its own (_fa) for the pairs without 128-wide scales; refused with them.
TEST(GemmConfigRules, FastAccum) {
  GemmConfig c = gemm_config(128, 128, 4, 2);
  c.mode_a = ScaleModeA::kToken;
  c.mode_b = ScaleModeB::kChannel;
  expect_valid(c);
  const std::string exact = kernel_name(c);
  c.fast_accum = true;
  expect_valid(c);
  EXPECT_EQ(kernel_name(c), exact + "_fa");
  EXPECT_NE(to_string(c).find("fast_accum"), std::string::npos);
  EXPECT_NE(std::hash<GemmConfig>{}(c), std::hash<GemmConfig>{}(gemm_config(128, 128, 4, 2)));
  for (ScaleModeB b : {ScaleModeB::kBlock128, ScaleModeB::kChannel}) {
    GemmConfig promoted = c;
    promoted.mode_a = b == ScaleModeB::kBlock128 ? ScaleModeA::kToken : ScaleModeA::kGroup128;
    promoted.mode_b = b;
    expect_only_rule(promoted, "fast_accum");
  }
}

}  // namespace
}  // namespace fp8kit
