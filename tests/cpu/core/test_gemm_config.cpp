// GemmConfig: names and validity rules (one failing and one passing case each).
#include <algorithm>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

using test::expect_only_rule;
using test::expect_valid;
using test::gemm_config;
using test::joined;

TEST(GemmConfig, KernelNameGoldens) {
  EXPECT_EQ(kernel_name(GemmConfig{}), "sm90_fp8_gemm_a-group128_b-block128_bf16_m128n128k128_s4_wg2_c1");
  GemmConfig c = gemm_config(64, 48, 3, 1, 2);
  c.mode_a = ScaleModeA::kToken;
  c.mode_b = ScaleModeB::kChannel;
  c.out = DType::kFloat32;
  EXPECT_EQ(kernel_name(c), "sm90_fp8_gemm_a-token_b-channel_fp32_m64n48k128_s3_wg1_c2");
  c = gemm_config(256, 192, 2, 2);
  c.mode_a = ScaleModeA::kTensor;
  c.mode_b = ScaleModeB::kTensor;
  c.out = DType::kFloat16;
  EXPECT_EQ(kernel_name(c), "sm90_fp8_gemm_a-tensor_b-tensor_fp16_m256n192k128_s2_wg2_c1");
  EXPECT_EQ(kernel_name(gemm_config(256, 128, 3, 2, 1, 2)), "sm90_fp8_gemm_a-group128_b-block128_bf16_m256n128k128_s3_wg2_cn2");
  // group_size_m is a run-time knob: same kernel, same name.
  GemmConfig g;
  g.group_size_m = 16;
  EXPECT_EQ(kernel_name(g), kernel_name(GemmConfig{}));
  GemmConfig e4m3_out;
  e4m3_out.out = DType::kE4M3;
  EXPECT_THROW(kernel_name(e4m3_out), Error);
}

TEST(GemmConfig, PrintsEveryField) {
  EXPECT_EQ(to_string(GemmConfig{}),
            "GemmConfig{block_m=128, block_n=128, block_k=128, stages=4, consumer_warpgroups=2, cluster_m=1, "
            "cluster_n=1, mode_a=group128, mode_b=block128, out=bf16, group_size_m=8}");
  std::ostringstream os;
  os << GemmConfig{};
  EXPECT_EQ(os.str(), to_string(GemmConfig{}));
  GemmConfig bad;
  bad.out = DType::kE5M2;  // printable even when invalid
  EXPECT_NE(to_string(bad).find("out=e5m2"), std::string::npos);
}

TEST(GemmConfig, EqualityOrderAndHash) {
  const GemmConfig a;
  GemmConfig b;
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::hash<GemmConfig>{}(a), std::hash<GemmConfig>{}(b));
  b.group_size_m = 16;  // a run-time field still makes a different config
  EXPECT_NE(a, b);
  EXPECT_NE(std::hash<GemmConfig>{}(a), std::hash<GemmConfig>{}(b));
  EXPECT_LT(a, b);
  GemmConfig c;
  c.block_m = 64;  // block_m is the first field: it decides the order
  c.group_size_m = 64;
  EXPECT_LT(c, a);
  EXPECT_GT(a, c);
  GemmConfig d;
  d.out = DType::kFloat32;
  EXPECT_NE(a, d);
  // Every config of the space hashes differently (64-bit hash, 896 values).
  const auto space = gemm_search_space();
  std::unordered_set<std::size_t> hashes;
  for (const auto& x : space) hashes.insert(std::hash<GemmConfig>{}(x));
  EXPECT_EQ(hashes.size(), space.size());
  std::unordered_set<GemmConfig> set(space.begin(), space.end());
  EXPECT_EQ(set.size(), space.size());
}

TEST(GemmConfig, DerivedQuantities) {
  const GemmConfig c;
  EXPECT_EQ(gemm_threads(c), 384);
  EXPECT_EQ(rows_per_warpgroup(c), 64);
  EXPECT_TRUE(gemm_needs_promotion(c));
  EXPECT_EQ(consumer_registers_needed(c),
            64 + 64 + kPromotionRegisterOverhead + kConsumerRegisterOverhead - kKernelPromotionSavings);
  EXPECT_EQ(consumer_registers_needed(c), 168);
  GemmConfig unpromoted = c;
  unpromoted.mode_a = ScaleModeA::kToken;
  unpromoted.mode_b = ScaleModeB::kChannel;
  EXPECT_TRUE(gemm_needs_promotion(unpromoted));  // the exact path promotes every K block with unit scales
  unpromoted.fast_accum = true;
  EXPECT_FALSE(gemm_needs_promotion(unpromoted));
  EXPECT_EQ(consumer_registers_needed(unpromoted), 64 + kConsumerRegisterOverhead);
  GemmConfig mixed = unpromoted;
  mixed.mode_b = ScaleModeB::kBlock128;  // either side's 128-wide scales need promotion
  EXPECT_TRUE(gemm_needs_promotion(mixed));
  // 1 producer at 40 registers: (65536 - 128 * 40) / 256 = 236 -> 232 for two consumers; one
  // consumer is capped at 240.
  EXPECT_EQ(consumer_register_budget(1), 240);
  EXPECT_EQ(consumer_register_budget(2), 232);
  EXPECT_LE(128 * kProducerRegisters + 2 * 128 * consumer_register_budget(2), kSm90RegistersPerSm);
  EXPECT_GT(128 * kProducerRegisters + 2 * 128 * (consumer_register_budget(2) + 8), kSm90RegistersPerSm);

  const GemmSmemLayout s = gemm_smem_layout(c);
  EXPECT_EQ(s.a_stage, 128 * 128);
  EXPECT_EQ(s.b_stage, 128 * 128);
  EXPECT_EQ(gemm_store_box_bytes(c), 128);
  EXPECT_EQ(gemm_store_passes(c), 1);  // a full-size staging buffer fits beside 4 stages
  EXPECT_EQ(s.epilogue, 128 * 128 * 2);
  EXPECT_EQ(s.scale_a_stage, 128 * 4);
  EXPECT_EQ(s.barriers, 4 * 16);
  EXPECT_EQ(s.total, 4 * (16384 + 16384 + 512) + 32768 + 64);
  GemmConfig deep = c;  // 6 stages leave room for half the staging only: two passes
  deep.stages = 6;
  EXPECT_EQ(gemm_store_passes(deep), 2);
  EXPECT_EQ(gemm_smem_layout(deep).epilogue, 128 * 128 * 2 / 2);
  EXPECT_TRUE(is_valid(deep));
  deep.stages = 5;
  EXPECT_EQ(gemm_store_passes(deep), 1);
  GemmConfig odd = c;  // 112 bf16 = 224 bytes a row: 7 boxes of 32 bytes, one pass
  odd.block_n = 112;
  EXPECT_EQ(gemm_store_box_bytes(odd), 32);
  EXPECT_EQ(gemm_store_passes(odd), 1);
  EXPECT_EQ(gemm_smem_layout(odd).epilogue, 128 * 112 * 2);
  EXPECT_EQ(gemm_smem_layout(unpromoted).scale_a_stage, 0);
  EXPECT_EQ(gemm_smem_layout(gemm_config(16, 64, 16, 1)).scale_a_stage, 128);  // 64 bytes of scales in a TMA-aligned line

  // Overlapped promotion: 2 scratch accumulators beside the tile's, where the registers hold them.
  EXPECT_TRUE(gemm_overlaps_promotion(c));  // 64 + 2 * 64 + 40 = 232 <= 232
  EXPECT_FALSE(gemm_overlaps_promotion(unpromoted));
  EXPECT_TRUE(gemm_overlaps_promotion(mixed));
  GemmConfig wide = c;  // 64 + 2 * 72 + 40 > 232
  wide.block_n = 144;
  EXPECT_FALSE(gemm_overlaps_promotion(wide));
  GemmConfig tall = gemm_config(256, 96, 4, 2);  // 2 slices: 96 + 2 * 48 + 40 = 232
  EXPECT_TRUE(gemm_overlaps_promotion(tall));
  tall.block_n = 112;
  EXPECT_FALSE(gemm_overlaps_promotion(tall));
}

// Split-K: a K-range count per tile, in the name as _sk<S>, cluster 1 only, and never so many that
// a split gets no K block (splits take ceil(K blocks / S) each).
TEST(GemmConfigRules, BlockK) {
  GemmConfig c;
  c.block_k = 64;
  expect_only_rule(c, "block_k");
  c.block_k = 128;
  expect_valid(c);
}

TEST(GemmConfigRules, ConsumerWarpgroups) {
  expect_only_rule(gemm_config(128, 64, 4, 3), "consumer_warpgroups");
  expect_only_rule(gemm_config(128, 64, 4, 0), "consumer_warpgroups");
  expect_valid(gemm_config(128, 64, 4, 1));
  expect_valid(gemm_config(128, 64, 4, 2));
}

TEST(GemmConfigRules, BlockMIsOneOrTwo64RowSlicesPerWarpgroup) {
  expect_only_rule(gemm_config(64, 64, 4, 2), "block_m");   // 32 rows per warpgroup
  expect_only_rule(gemm_config(256, 32, 4, 1), "block_m");  // 256 rows in one warpgroup
  expect_only_rule(gemm_config(192, 64, 4, 2), "block_m");  // 96 rows
  expect_only_rule(gemm_config(96, 64, 4, 1), "block_m");
  expect_valid(gemm_config(64, 64, 4, 1));
  expect_valid(gemm_config(128, 32, 4, 1));
  expect_valid(gemm_config(128, 64, 4, 2));
  expect_valid(gemm_config(256, 32, 4, 2));
}

TEST(GemmConfigRules, BlockNIsAWgmmaN) {
  expect_only_rule(gemm_config(64, 8, 4, 1), "block_n");
  expect_only_rule(gemm_config(64, 24, 4, 1), "block_n");  // a wgmma N, but not one fp8kit instantiates
  expect_only_rule(gemm_config(64, 0, 4, 1), "block_n");
  GemmConfig wide = gemm_config(64, 272, 2, 1);
  wide.mode_a = ScaleModeA::kTensor;
  wide.fast_accum = true;  // the tensor cores accumulate all of K
  wide.mode_b = ScaleModeB::kTensor;
  expect_only_rule(wide, "block_n");
  expect_valid(gemm_config(64, 16, 4, 1));
  wide.block_n = 256;
  expect_valid(wide);
}

TEST(GemmConfigRules, ATileTouchesAtMostTwoScaleBlocksOfB) {
  // block_n 176: tile 5 covers columns 880..1055, which touch scale blocks 6 (768..895),
  // 7 (896..1023) and 8 (1024..1151): three scales per K block, refused.
  expect_only_rule(gemm_config(64, 176, 2, 1), "scale_b span");
  GemmConfig per_channel = gemm_config(64, 176, 2, 1);
  per_channel.mode_b = ScaleModeB::kChannel;  // no B blocks: any width
  expect_valid(per_channel);
  expect_valid(gemm_config(64, 144, 2, 1));  // 144 - gcd(144, 128) = 128: two blocks at most
  expect_valid(gemm_config(64, 160, 2, 1));
  expect_valid(gemm_config(64, 192, 2, 1));  // 192 - gcd(192, 128) = 128: two blocks at most
  expect_only_rule(gemm_config(64, 208, 2, 1), "scale_b span");  // 208 - 16 = 192: three
}

TEST(GemmConfigRules, Stages) {
  expect_only_rule(gemm_config(128, 128, 1, 2), "stages");
  expect_only_rule(gemm_config(64, 16, 33, 1), "stages");
  expect_valid(gemm_config(128, 128, 2, 2));
  expect_valid(gemm_config(64, 16, 20, 1));
}

TEST(GemmConfigRules, ClusterAndRasterizationGroup) {
  expect_only_rule(gemm_config(128, 128, 4, 2, 3), "cluster_m");
  expect_only_rule(gemm_config(128, 128, 4, 2, 0), "cluster_m");
  expect_only_rule(gemm_config(128, 128, 4, 2, 1, 4), "cluster_n");
  expect_only_rule(gemm_config(128, 128, 4, 2, 2, 2), "cluster");  // 4 CTAs: not built
  expect_valid(gemm_config(128, 128, 4, 2, 1, 2));
  expect_valid(gemm_config(64, 16, 4, 1, 1, 2));  // half of A: 32 rows, whole swizzle atoms
  expect_valid(gemm_config(128, 128, 4, 2, 2));
  GemmConfig c = gemm_config(128, 128, 4, 2, 2);
  c.group_size_m = 3;  // a cluster pair would straddle two groups
  expect_only_rule(c, "group_size_m");
  c.group_size_m = 4;
  expect_valid(c);
  c.cluster_m = 1;
  c.group_size_m = 3;
  expect_valid(c);
  c.group_size_m = 0;
  expect_only_rule(c, "group_size_m");
}

TEST(GemmConfigRules, OutDtype) {
  GemmConfig c;
  c.out = DType::kE4M3;
  expect_only_rule(c, "out");
  for (DType ok : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
    c.out = ok;
    c.stages = 3;  // fp32 staging doubles the epilogue buffer
    expect_valid(c);
  }
}

TEST(GemmConfigRules, RegistersAtTheSetmaxnregBudget) {
  // Promoted, 64 rows per consumer: N/2 accumulators + N/2 scratch + 24 + 32 - 16 (the real
  // kernel's savings). Two consumers (budget 232): N = 192 needs 96 + 96 + 40 = 232, N = 208 248.
  GemmConfig c = gemm_config(128, 192, 2, 2);
  c.mode_b = ScaleModeB::kChannel;  // keeps block_n free of the scale-span rule
  expect_valid(c);
  c.block_n = 208;
  expect_only_rule(c, "registers");
  // The same tile without promotion: 104 + 32.
  c.mode_a = ScaleModeA::kToken;
  c.fast_accum = true;  // the tensor cores accumulate all of K
  expect_valid(c);
  // One consumer (budget 240), 64 rows: the same boundary, 232 and 248.
  GemmConfig one = gemm_config(64, 192, 2, 1);
  one.mode_b = ScaleModeB::kChannel;
  expect_valid(one);
  one.block_n = 208;
  expect_only_rule(one, "registers");
  // 128 rows per consumer, promoted: N accumulators + N/2 scratch + 40; N = 112 needs 208, N = 128
  // 232 (DeepGEMM's m256n128), N = 144 256.
  expect_valid(gemm_config(128, 112, 2, 1));
  expect_valid(gemm_config(128, 128, 2, 1));
  expect_only_rule(gemm_config(128, 144, 2, 1), "registers");
  expect_valid(gemm_config(256, 112, 2, 2));
  expect_valid(gemm_config(256, 128, 2, 2));
  expect_only_rule(gemm_config(256, 144, 2, 2), "registers");
  // 128 rows per consumer, unpromoted: the accumulators (N + 32) would fit up to N = 192 with two
  // consumers, but the real kernel spills from N = 128 on: the measured cap is 112.
  GemmConfig plain = gemm_config(128, 112, 2, 1);
  plain.mode_a = ScaleModeA::kToken;
  plain.fast_accum = true;  // the tensor cores accumulate all of K
  plain.mode_b = ScaleModeB::kChannel;
  expect_valid(plain);
  plain.block_n = 128;
  expect_only_rule(plain, "registers");
  plain = gemm_config(256, 112, 2, 2);
  plain.mode_a = ScaleModeA::kTensor;
  plain.fast_accum = true;  // the tensor cores accumulate all of K
  plain.mode_b = ScaleModeB::kTensor;
  expect_valid(plain);
  plain.block_n = 192;
  expect_only_rule(plain, "registers");
  // 64 rows per consumer, unpromoted: N / 2 + 32, no cap.
  plain = gemm_config(128, 256, 2, 2);
  plain.mode_a = ScaleModeA::kTensor;
  plain.fast_accum = true;  // the tensor cores accumulate all of K
  plain.mode_b = ScaleModeB::kTensor;
  expect_valid(plain);
}

TEST(GemmConfigRules, SharedMemoryAt227KiB) {
  // 128 x 128, bf16, promoted: 33280 bytes a stage + 16384 epilogue (two passes) + 16 per stage of barriers.
  expect_valid(gemm_config(128, 128, 6, 2));  // 216160 bytes
  expect_only_rule(gemm_config(128, 128, 7, 2), "shared memory");  // 249456 > 232448
  EXPECT_EQ(gemm_smem_layout(gemm_config(128, 128, 7, 2)).total, 249456);
  GemmConfig f32 = gemm_config(128, 256, 3, 2);
  f32.mode_a = ScaleModeA::kTensor;
  f32.fast_accum = true;  // the tensor cores accumulate all of K
  f32.mode_b = ScaleModeB::kTensor;
  f32.out = DType::kFloat32;  // 3 x 49152 + 65536 + 48 = 213040
  expect_valid(f32);
  f32.stages = 4;  // + 49168
  expect_only_rule(f32, "shared memory");
}

TEST(GemmConfigRules, ValidateThrowsTheFirstRuleAndCountsTheRest) {
  GemmConfig c = gemm_config(64, 8, 1, 2);  // block_m, block_n and stages
  EXPECT_EQ(gemm_config_errors(c).size(), 3u);
  try {
    validate(c);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    const std::string what = e.what();
    EXPECT_NE(what.find("block_m:"), std::string::npos) << what;
    EXPECT_NE(what.find("(and 2 more)"), std::string::npos) << what;
  }
}

TEST(GemmConfigRules, ProblemRules) {
  const GemmConfig c;
  EXPECT_TRUE(is_valid(c, {4096, 576, 7168}));  // ragged N tile: fine
  EXPECT_TRUE(is_valid(c, {0, 576, 7168}));
  EXPECT_TRUE(is_valid(c, {1, 16, 128}));
  const auto n_bad = gemm_config_errors(c, {64, 72, 256});
  ASSERT_EQ(n_bad.size(), 1u);
  EXPECT_TRUE(n_bad[0].starts_with("shape:")) << n_bad[0];
  EXPECT_NE(n_bad[0].find("N must be a positive multiple of 16"), std::string::npos);
  const auto k_bad = gemm_config_errors(c, {64, 128, 200});
  ASSERT_EQ(k_bad.size(), 1u);
  EXPECT_NE(k_bad[0].find("K must be"), std::string::npos) << k_bad[0];
  EXPECT_THROW(validate(c, {64, 128, 200}), Error);
  EXPECT_NO_THROW(validate(c, {64, 128, 256}));

  // Cluster pairs need an even number of M tiles.
  const GemmConfig pair = gemm_config(128, 128, 4, 2, 2);
  EXPECT_TRUE(is_valid(pair, {256, 1024, 1024}));
  EXPECT_TRUE(is_valid(pair, {129, 1024, 1024}));  // 2 tiles, the second ragged
  const auto odd = gemm_config_errors(pair, {384, 1024, 1024});
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_TRUE(odd[0].starts_with("cluster_m:")) << odd[0];
  EXPECT_FALSE(is_valid(pair, {100, 1024, 1024}));
  EXPECT_TRUE(is_valid(gemm_config(128, 128, 4, 2, 1), {384, 1024, 1024}));
  // ... and pairs along N an even number of N tiles.
  const GemmConfig along_n = gemm_config(128, 128, 4, 2, 1, 2);
  EXPECT_TRUE(is_valid(along_n, {384, 1024, 1024}));
  EXPECT_TRUE(is_valid(along_n, {384, 240, 1024}));  // 2 tiles, the second ragged
  const auto odd_n = gemm_config_errors(along_n, {256, 384, 1024});
  ASSERT_EQ(odd_n.size(), 1u);
  EXPECT_TRUE(odd_n[0].starts_with("cluster_n:")) << odd_n[0];
  // A broken config stays broken whatever the shape.
  EXPECT_FALSE(is_valid(gemm_config(64, 8, 4, 1), {64, 128, 256}));
}

}  // namespace
}  // namespace fp8kit
