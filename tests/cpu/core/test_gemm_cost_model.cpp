// The GEMM cost model's verdicts on fixed inputs (the heuristic's and the tuner's one model).
#include <gtest/gtest.h>

#include <vector>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "core/gemm_cost_model.hpp"

namespace fp8kit {
namespace {

using test::candidates_for;
using test::gemm_config;

TEST(GemmCostModel, RaggedNCostsPaddedTiles) {
  const GemmShape s{4096, 576, 7168};
  EXPECT_DOUBLE_EQ(estimate_cost(gemm_config(128, 192, 4, 2), s).tile_efficiency, 1.0);      // 576 = 3 x 192
  EXPECT_DOUBLE_EQ(estimate_cost(gemm_config(128, 128, 4, 2), s).tile_efficiency, 576.0 / 640);
  EXPECT_EQ(estimate_cost(gemm_config(128, 128, 4, 2), s).tiles, 32 * 5);
}

TEST(GemmCostModel, RaggedMCostsPaddedTiles) {
  const GemmShape s{65, 7168, 2048};
  EXPECT_DOUBLE_EQ(estimate_cost(gemm_config(64, 128, 4, 1), s).tile_efficiency, 65.0 / 128);
  EXPECT_DOUBLE_EQ(estimate_cost(gemm_config(128, 128, 4, 2), s).tile_efficiency, 65.0 / 128);
}

TEST(GemmCostModel, WavesCountConcurrentCtas) {
  DeviceModel d;
  d.sm_count = 132;
  const GemmConfig c = gemm_config(128, 128, 4, 2);
  const CostEstimate e = estimate_cost(c, {128 * 133, 128, 1024}, d);  // 133 tiles
  ASSERT_EQ(e.ctas_per_sm, 1);                                          // 4 stages of 128x128: > 114 KiB
  EXPECT_NEAR(e.waves, 133.0 / 132, 1e-12);
  EXPECT_NEAR(e.wave_efficiency, 133.0 / 264, 1e-12);                  // a second, nearly empty wave
}

TEST(GemmCostModel, ClusterMulticastHalvesTheBTraffic) {
  const GemmShape s{4096, 7168, 7168};
  const double one = estimate_cost(gemm_config(128, 128, 4, 2, 1), s).bytes_per_flop;
  const double two = estimate_cost(gemm_config(128, 128, 4, 2, 2), s).bytes_per_flop;
  EXPECT_LT(two, one);
}

TEST(GemmCostModel, BiggerTilesMoveFewerBytesPerFlop) {
  const GemmShape s{4096, 7168, 7168};
  EXPECT_LT(estimate_cost(gemm_config(128, 128, 4, 2), s).bytes_per_flop, estimate_cost(gemm_config(64, 64, 4, 1), s).bytes_per_flop);
  EXPECT_LT(estimate_cost(gemm_config(128, 256, 3, 2), s).bytes_per_flop, estimate_cost(gemm_config(128, 128, 4, 2), s).bytes_per_flop);
}

TEST(GemmCostModel, ShallowRingsAndNarrowWgmmaAreSlower) {
  const GemmShape s{4096, 7168, 7168};
  EXPECT_GT(estimate_cost(gemm_config(128, 128, 2, 2), s).time_us, estimate_cost(gemm_config(128, 128, 4, 2), s).time_us);
  EXPECT_GT(estimate_cost(gemm_config(128, 32, 4, 2), s).time_us, estimate_cost(gemm_config(128, 128, 4, 2), s).time_us);
}

// The ordering the search starts from, pinned on fixed inputs: large M wants large tiles; M = 1
// wants block_m 64 and a narrower N than the widest tile (more CTAs pulling the weights).
TEST(GemmCostModel, RankingOnFixedShapes) {
  const GemmShape large{4096, 7168, 7168};
  const auto ranked_large = rank_by_cost(candidates_for(large), large);
  ASSERT_FALSE(ranked_large.empty());
  EXPECT_EQ(ranked_large.front().block_m, 128) << to_string(ranked_large.front());
  EXPECT_GE(ranked_large.front().block_n, 128) << to_string(ranked_large.front());
  EXPECT_EQ(ranked_large.front().consumer_warpgroups, 2) << to_string(ranked_large.front());

  const GemmShape gemv{1, 7168, 7168};
  const auto ranked_gemv = rank_by_cost(candidates_for(gemv), gemv);
  ASSERT_FALSE(ranked_gemv.empty());
  EXPECT_EQ(ranked_gemv.front().block_m, 64) << to_string(ranked_gemv.front());
  EXPECT_LT(ranked_gemv.front().block_n, 256) << to_string(ranked_gemv.front());
  // The order is stable: ranking twice gives the same list.
  EXPECT_EQ(rank_by_cost(candidates_for(gemv), gemv), ranked_gemv);
}

TEST(GemmCostModel, RankIsStableForTies) {
  const GemmShape s{4096, 7168, 7168};
  const GemmConfig a = gemm_config(128, 128, 4, 2), b = [&] {
    GemmConfig c = a;
    c.group_size_m = 16;  // run time only: the model cannot tell them apart
    return c;
  }();
  EXPECT_EQ(rank_by_cost({a, b}, s), (std::vector<GemmConfig>{a, b}));
  EXPECT_EQ(rank_by_cost({b, a}, s), (std::vector<GemmConfig>{b, a}));
}

}  // namespace
}  // namespace fp8kit
