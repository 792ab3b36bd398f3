// The own GEMM's code generation without a GPU: the generated source spells the config, the
// default heuristic picks valid configs, and every config of the block-scaled search space (plus
// every scale pair and out dtype) compiles under NVRTC for sm_90a with no spills and no lost
// Hopper feature (setmaxnreg honoured, wgmma not serialized).
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "common/gemm_config_builder.hpp"
#include "common/test_util.hpp"
#include "core/gemm_config.hpp"
#include "core/gemm_cost_model.hpp"
#include "cpu/jit_checks.hpp"
#include "jit/compiler.hpp"
#include "ops/gemm_split_k.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit {
namespace {

TEST(Sm90Fp8GemmSource, SpellsTheConfig) {
  GemmConfig c;
  c.block_n = 112;
  c.stages = 5;
  c.cluster_m = 2;
  c.group_size_m = 16;
  const jit::KernelSource s = ops::sm90_fp8_gemm_source(c);
  EXPECT_EQ(s.name, kernel_name(c));
  EXPECT_EQ(s.name, "sm90_fp8_gemm_a-group128_b-block128_bf16_m128n112k128_s5_wg2_c2");
  EXPECT_EQ(s.entry, "fp8kit_sm90_gemm");  // ncu tells it from the quantization kernels by name
  EXPECT_NE(s.source.find(" fp8kit_sm90_gemm(const __grid_constant__ fp8kit::Sm90GemmParams p)"), std::string::npos);
  for (const char* part :
       {"// generated: sm90_fp8_gemm_a-group128_b-block128_bf16_m128n112k128_s5_wg2_c2\n",
        "#include <fp8kit/gemm/sm90_fp8_gemm.cuh>",
        "kBlockM = 128, kBlockN = 112, kBlockK = 128, kStages = 5;", "kConsumerWarpgroups = 2, kClusterM = 2, kClusterN = 1;",
        "kProducerRegisters = 40, kConsumerRegisters = 232;", "kOverlapPromotion = true;", "kStorePasses = 1, kSplitK = 1;", "kFastAccum = false, kSplitCluster = false;",
        "__launch_bounds__(384, 1) __cluster_dims__(2, 1, 1)",
        "fp8kit::sm90_fp8_gemm<Cfg, fp8kit::kGemmScaleAGroup128, fp8kit::kGemmScaleBBlock128, fp8kit::kGemmOutBF16>(p)"}) {
    EXPECT_NE(s.source.find(part), std::string::npos) << part << "\n" << s.source;
  }
  // group_size_m is a run-time value: it changes neither the name nor the source.
  GemmConfig other = c;
  other.group_size_m = 8;
  EXPECT_EQ(ops::sm90_fp8_gemm_source(other).source, s.source);
  // A cluster along N: the same cluster size, the other axis.
  GemmConfig along_n = c;
  along_n.cluster_m = 1;
  along_n.cluster_n = 2;
  const jit::KernelSource n = ops::sm90_fp8_gemm_source(along_n);
  EXPECT_EQ(n.name, "sm90_fp8_gemm_a-group128_b-block128_bf16_m128n112k128_s5_wg2_cn2");
  for (const char* part : {"kClusterM = 1, kClusterN = 2;", "__cluster_dims__(2, 1, 1)"}) {
    EXPECT_NE(n.source.find(part), std::string::npos) << part << "\n" << n.source;
  }
  // Without a cluster the kernel is not launched as a cluster of one.
  GemmConfig single = c;
  single.cluster_m = 1;
  EXPECT_EQ(ops::sm90_fp8_gemm_source(single).source.find("__cluster_dims__"), std::string::npos);
  // A split cluster: launched as a cluster of its split_k CTAs.
  GemmConfig split = test::gemm_config(16, 64, 16, 1);
  split.split_k = 4;
  split.split_cluster = 1;
  const jit::KernelSource sc = ops::sm90_fp8_gemm_source(split);
  for (const char* part : {"kSplitK = 4;", "kSplitCluster = true;", "__launch_bounds__(256, 1) __cluster_dims__(4, 1, 1)"}) {
    EXPECT_NE(sc.source.find(part), std::string::npos) << part << "\n" << sc.source;
  }
  GemmConfig bad = c;
  bad.block_n = 24;
  EXPECT_THROW(ops::sm90_fp8_gemm_source(bad), Error);
}

TEST(Sm90Fp8GemmSource, DefaultConfigIsValidForEveryShapeAndPair) {
  for (std::int64_t m : {1, 16, 64, 65, 128, 1000, 4096}) {
    for (const GemmShape& nk : {GemmShape{0, 576, 7168}, GemmShape{0, 7168, 2048}, GemmShape{0, 24576, 1536},
                                GemmShape{0, 16, 128}}) {
      const GemmShape s{m, nk.n, nk.k};
      for (ScaleModeA a : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
        for (ScaleModeB b : {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}) {
          for (DType out : {DType::kBFloat16, DType::kFloat32}) {
            const GemmConfig c = ops::default_gemm_config(s, a, b, out, 132);
            EXPECT_TRUE(is_valid(c, s)) << to_string(c) << " for " << m << "x" << s.n << "x" << s.k;
            if (m <= 64) {  // one consumer warpgroup: of the fewest rows that hold M, or 64 (few tiles)
              EXPECT_EQ(c.consumer_warpgroups, 1) << to_string(c);
              EXPECT_TRUE(c.block_m == 64 || c.block_m == (m <= 16 ? 16 : 32)) << to_string(c);
            }
          }
        }
      }
    }
  }
  // Many tiles: m256n128 s3 (one store pass). One wave of 128-row tiles: 64-row tiles of twice the
  // width with one consumer (the tuner's m64n128 at 128 x 7168 x 2048, H200, 2026-12-04).
  const GemmConfig big = ops::default_gemm_config({4096, 24576, 7168}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                  DType::kBFloat16, 132);
  EXPECT_EQ(std::make_tuple(big.block_m, big.block_n, big.stages, gemm_store_passes(big)), std::make_tuple(256, 128, 3, 1));
  const GemmConfig one_wave = ops::default_gemm_config({128, 7168, 2048}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                       DType::kBFloat16, 132);
  EXPECT_EQ(std::make_tuple(one_wave.block_m, one_wave.block_n, one_wave.consumer_warpgroups), std::make_tuple(64, 128, 1));
  // Under a wave of 128-row tiles: 64-row tiles with one consumer (the tuner's m64n16 at 128 x 512
  // x 7168 ran 1.6x the heuristic's m128n32 on an H200).
  const GemmConfig few_tiles = ops::default_gemm_config({128, 512, 7168}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                        DType::kBFloat16, 132);
  EXPECT_EQ(std::make_tuple(few_tiles.block_m, few_tiles.block_n, few_tiles.consumer_warpgroups), std::make_tuple(64, 16, 1));
  // Above M = 64 a split only where the tiles leave half the SMs idle.
  EXPECT_EQ(ops::default_gemm_config({4096, 24576, 7168}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                     DType::kBFloat16, 132).split_k,
            1);
}

// M <= 64 (decode_model_us up to kDecodeMaxM, the compute model above): the fewest rows that hold
// M, one consumer, a width that never straddles two B scale blocks up to M = 32 (at M = 64 a
// multiple of 16 up to 192), a ring of at most 8 (deeper for an unsplit 64-row tile over a long K),
// and a split only within one wave of SMs with 8+ K blocks a split.
TEST(Sm90Fp8GemmSource, DecodeHeuristicKeepsItsRules) {
  for (std::int64_t m : {1, 2, 16, 17, 32, 33, 64}) {
    for (const auto& [n, k] : {std::pair{576, 7168}, {3072, 7168}, {7168, 18432}, {32768, 512}, {7168, 256}}) {
      const GemmShape s{m, n, k};
      const GemmConfig c = ops::default_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, 132);
      EXPECT_TRUE(is_valid(c, s)) << to_string(c);
      EXPECT_EQ(c.block_m, m <= 16 ? 16 : m <= 32 ? 32 : 64) << to_string(c);
      EXPECT_EQ(c.consumer_warpgroups, 1);
      if (m <= kDecodeMaxM) {
        EXPECT_EQ(128 % c.block_n, 0) << to_string(c);
      } else {
        EXPECT_TRUE(c.block_n % 16 == 0 && c.block_n <= 192) << to_string(c);
      }
      // An unsplit 64-row tile over 32+ K blocks: an even ring of up to 16 holding 64 KB of B.
      const bool long_walk = m > kDecodeMaxM && c.split_k == 1 && (k + 127) / 128 >= 32;
      if (long_walk && c.block_n * 128 * 8 < 64 * 1024) {
        EXPECT_TRUE(c.stages % 2 == 0 && c.stages > 8 && c.stages <= 16) << to_string(c);
      } else {
        EXPECT_LE(c.stages, 8) << to_string(c);
      }
      if (m == 64 && n == 3072) {
        EXPECT_EQ(c.stages, 16) << to_string(c);  // m64n32: 1.12x at s16, H100 cold
      }
      if (c.split_k > 1) {
        EXPECT_LE((m + c.block_m - 1) / c.block_m * ((n + c.block_n - 1) / c.block_n) * c.split_k, 132) << to_string(c);
        EXPECT_GE((k + 127) / 128 / c.split_k, kTuneMinSplitKBlocks) << to_string(c);
      }
      // Splits of 2, and of 3-4 on at most 112 SMs, sum in their cluster; more through the
      // workspace (H200, 2026-12-05).
      const std::int64_t ctas = (m + c.block_m - 1) / c.block_m * ((n + c.block_n - 1) / c.block_n) * c.split_k;
      const bool clustered = c.split_k == 2 || (c.split_k >= 3 && c.split_k <= 4 && ctas <= 112);
      EXPECT_EQ(c.split_cluster, clustered ? 1 : 0) << to_string(c);
    }
  }
  // The measured family wins where the old rule lost 1.8x (H200, 2026-12-04 tune: 3072 x 7168 at
  // M = 1, m16n64 split 2 8.2 us against the old pick m16n32 unsplit 14.8 us): wide, split.
  const GemmConfig wide = ops::default_gemm_config({1, 3072, 7168}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                   DType::kBFloat16, 132);
  EXPECT_GE(wide.block_n, 64) << to_string(wide);
  EXPECT_GT(wide.split_k, 1) << to_string(wide);
  // Both sides of the cluster rule are reached: a split of 3-4 on more than 112 SMs keeps the
  // workspace, one on fewer is a cluster.
  int wide_workspace = 0, narrow_cluster = 0;
  for (std::int64_t n = 256; n <= 8192; n += 256) {
    const GemmShape s{1, n, 7168};
    const GemmConfig c = ops::default_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, 132);
    if (c.split_k < 3 || c.split_k > 4) continue;
    const std::int64_t ctas = (n + c.block_n - 1) / c.block_n * c.split_k;
    EXPECT_EQ(c.split_cluster, ctas <= 112 ? 1 : 0) << to_string(c) << " N=" << n;
    (ctas <= 112 ? narrow_cluster : wide_workspace) += 1;
  }
  EXPECT_GT(wide_workspace, 0);
  EXPECT_GT(narrow_cluster, 0);
  // Above M = 32 (the compute model's max_split) splits sum in their cluster too.
  const GemmConfig narrow = ops::default_gemm_config({64, 512, 7168}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                     DType::kBFloat16, 132);
  EXPECT_EQ(std::make_tuple(narrow.split_k, narrow.split_cluster), std::make_tuple(4, 1)) << to_string(narrow);
  // At M = 64 a width that takes the tiles into one wave wins over one that needs two (2026-12-05
  // cold tune: 24576 x 7168 m64n192 1.09x m64n128; token x channel 28672 x 4096 m64n112 1.11x m64n128).
  const GemmConfig one_wave = ops::default_gemm_config({64, 24576, 7168}, ScaleModeA::kGroup128,
                                                       ScaleModeB::kBlock128, DType::kBFloat16, 132);
  EXPECT_LE((24576 + one_wave.block_n - 1) / one_wave.block_n, 132) << to_string(one_wave);
  const GemmConfig channel = ops::default_gemm_config({64, 28672, 4096}, ScaleModeA::kToken, ScaleModeB::kChannel,
                                                      DType::kBFloat16, 132);
  EXPECT_EQ(channel.block_n, 112) << to_string(channel);
  // K = 512 holds 4 K blocks: never split.
  EXPECT_EQ(ops::default_gemm_config({1, 32768, 512}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                     DType::kBFloat16, 132).split_k,
            1);
}

// Without 128x128 B scales the decode heuristic also takes 96 / 112 wide tiles, unsplit or split in
// two, where its model has them 3% ahead (H200, 2026-12-05, token x channel cold: 1.07-1.16x).
TEST(Sm90Fp8GemmSource, DecodeHeuristicTakes96And112WideTilesWithoutBlockScales) {
  const auto pick = [](std::int64_t m, std::int64_t n, std::int64_t k, ScaleModeA a, ScaleModeB b) {
    return ops::default_gemm_config({m, n, k}, a, b, DType::kBFloat16, 132);
  };
  const auto shape_of = [](const GemmConfig& c) { return std::make_tuple(c.block_n, c.split_k, c.split_cluster); };
  EXPECT_EQ(shape_of(pick(16, 28672, 4096, ScaleModeA::kToken, ScaleModeB::kChannel)), std::make_tuple(112, 1, 0));
  EXPECT_EQ(shape_of(pick(1, 6144, 4096, ScaleModeA::kToken, ScaleModeB::kChannel)), std::make_tuple(96, 2, 1));
  // Split in four a 112 wide tile would lose its cluster (0.94-0.96x): m16n128's cluster stays.
  EXPECT_EQ(shape_of(pick(16, 3584, 18944, ScaleModeA::kToken, ScaleModeB::kChannel)), std::make_tuple(128, 4, 1));
  // A near-tie in the model keeps the width that never straddles (7168 x 2048 M = 1: m16n64, 0.4%).
  EXPECT_EQ(pick(1, 7168, 2048, ScaleModeA::kTensor, ScaleModeB::kTensor).block_n, 64);
  for (std::int64_t m : {1, 16, 32}) {
    for (std::int64_t n = 256; n <= 40960; n += 256) {
      const GemmConfig block = pick(m, n, 7168, ScaleModeA::kGroup128, ScaleModeB::kBlock128);
      EXPECT_EQ(128 % block.block_n, 0) << to_string(block);
      const GemmConfig channel = pick(m, n, 7168, ScaleModeA::kToken, ScaleModeB::kChannel);
      if (128 % channel.block_n != 0) {
        EXPECT_LE(channel.split_k, 2) << to_string(channel);
      }
    }
  }
}

void expect_compiles_cleanly(const std::vector<GemmConfig>& configs) {
  test::TempDir dir;
  std::vector<jit::KernelSource> sources;
  for (const GemmConfig& c : configs) sources.push_back(ops::sm90_fp8_gemm_source(c));
  const auto compiled = jit::KernelCompiler(jit::strict_options(dir)).compile_all(sources, 2);
  ASSERT_EQ(compiled.size(), configs.size());
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    const jit::CompiledKernel& k = compiled[i];
    EXPECT_FALSE(k.usage.spills()) << k.name << "\n" << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.name << "\n" << k.log;
    jit::expect_no_lost_features(k);
    std::printf("  %s: %d registers\n", k.name.c_str(), k.usage.registers);
  }
  std::printf("compiled %zu GEMM kernels\n", compiled.size());
}


// Every config the host accepts must compile (DESIGN.md §4): all 915 of the default space (the 626
// before the decode tiles took about two minutes on CI's two cores, 125 s, 2026-12-04).
TEST(Sm90Fp8GemmSource, WholeBlockScaledSpaceCompilesWithoutSpills) { expect_compiles_cleanly(gemm_search_space()); }

TEST(Sm90Fp8GemmSource, EveryScalePairAndOutDtypeCompiles) {
  std::vector<GemmConfig> configs;
  for (ScaleModeA a : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
    for (ScaleModeB b : {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}) {
      for (DType out : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
        if (a == ScaleModeA::kGroup128 && b == ScaleModeB::kBlock128 && out == DType::kBFloat16) continue;  // above
        GemmConfig c;
        c.mode_a = a;
        c.mode_b = b;
        c.out = out;
        c.block_n = 144;  // straddles two B scale blocks: the two-scale promotion path, serial
        c.stages = 4;
        ASSERT_TRUE(is_valid(c)) << to_string(c);
        configs.push_back(c);
        c.block_n = 128;  // overlapped promotion where promoted
        ASSERT_EQ(gemm_overlaps_promotion(c), gemm_needs_promotion(c)) << to_string(c);
        configs.push_back(c);
        c.block_m = 256;  // 128 rows a consumer: the register rules' tightest promoted tile where valid
        c.stages = 3;
        if (is_valid(c)) configs.push_back(c);
        if (a != ScaleModeA::kGroup128 && b != ScaleModeB::kBlock128) {  // and fast accumulation
          c.fast_accum = true;
          if (is_valid(c)) configs.push_back(c);
          c.block_m = 128;
          c.stages = 4;
          c.fast_accum = true;
          ASSERT_TRUE(is_valid(c)) << to_string(c);
          configs.push_back(c);
        }
      }
    }
  }
  expect_compiles_cleanly(configs);
}

// Split-K (issue 13): the GEMM kernels that store fp32 partials (a decode tile, a 64-row and a
// two-warpgroup tile), the same tiles summing in a cluster, and the reduce for each out dtype
// compile without spills.
TEST(Sm90Fp8GemmSource, SplitKKernelsCompileWithoutSpills) {
  std::vector<GemmConfig> configs;
  for (auto [bm, bn, stages, wg, split] : {std::tuple{16, 64, 16, 1, 8}, {64, 32, 8, 1, 4}, {128, 128, 4, 2, 2}}) {
    GemmConfig c = test::gemm_config(bm, bn, stages, wg);
    c.split_k = split;
    ASSERT_TRUE(is_valid(c)) << to_string(c);
    configs.push_back(c);
  }
  // The same tiles as split clusters: every scale pair on the decode tile, out dtypes on the others.
  for (const GemmConfig& base : std::vector<GemmConfig>(configs)) {
    GemmConfig c = base;
    c.split_cluster = 1;
    ASSERT_TRUE(is_valid(c)) << to_string(c);
    configs.push_back(c);
  }
  for (ScaleModeA a : {ScaleModeA::kTensor, ScaleModeA::kToken}) {
    GemmConfig c = configs.back();
    c.block_m = 16;
    c.block_n = 64;
    c.stages = 16;
    c.consumer_warpgroups = 1;
    c.mode_a = a;
    c.mode_b = a == ScaleModeA::kToken ? ScaleModeB::kChannel : ScaleModeB::kTensor;
    c.out = a == ScaleModeA::kToken ? DType::kFloat32 : DType::kFloat16;
    ASSERT_TRUE(is_valid(c)) << to_string(c);
    configs.push_back(c);
  }
  expect_compiles_cleanly(configs);
  test::TempDir dir;
  std::vector<jit::KernelSource> reduces;
  for (DType out : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) reduces.push_back(ops::split_k_reduce_source(out));
  for (const jit::CompiledKernel& k : jit::KernelCompiler(jit::strict_options(dir)).compile_all(reduces, 2)) {
    EXPECT_FALSE(k.usage.spills()) << k.name << "\n" << k.log;
  }
}

}  // namespace
}  // namespace fp8kit
