// Tuned configs per scale pair (issue 13): file names, the lookup by pair (fast accumulation
// reusing exact tunes), and a tune of another pair into its own file.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/gemm_config_builder.hpp"
#include "common/test_util.hpp"
#include "common/tuned_file_builder.hpp"
#include "core/tuned_config_file.hpp"
#include "core/tuned_configs.hpp"
#include "tune/tune_plan.hpp"
#include "tune/tuner.hpp"

namespace fp8kit::tune {
namespace {

namespace fs = std::filesystem;

using test::gemm_config;
using test::sample_file;
using test::TempDir;

TEST(TunePlan, FileNameSpellsTheScalePairBesideBlockScaling) {
  const TunedScales token_channel{ScaleModeA::kToken, ScaleModeB::kChannel};
  EXPECT_EQ(tuned_scales_tag({}), "block128x128");
  EXPECT_EQ(tuned_scales_tag(token_channel), "a-token_b-channel");
  EXPECT_EQ(tuned_scales_tag({ScaleModeA::kGroup128, ScaleModeB::kTensor}), "a-group128_b-tensor");
  EXPECT_EQ(tuned_config_file_name(4096, 4096, DType::kBFloat16, "NVIDIA H200", token_channel),
            "fp8kit_w8a8_a-token_b-channel_N=4096,K=4096,out=bfloat16,device=NVIDIA_H200.json");
  EXPECT_EQ(journal_path("/s", 576, 7168, DType::kBFloat16, "H 1", {ScaleModeA::kTensor, ScaleModeB::kTensor}),
            fs::path("/s/.fp8kit-tune-state/fp8kit_w8a8_a-tensor_b-tensor_N=576,K=7168,out=bfloat16,device=H_1.jsonl"));
  TunedConfigFile f = sample_file();
  f.mode_a = ScaleModeA::kToken;
  f.mode_b = ScaleModeB::kChannel;
  EXPECT_EQ(tuned_file_name(f), tuned_config_file_name(f.n, f.k, f.out, f.device, token_channel));
}

// sample_file() tuned for another scale pair: every config carries the file's modes.
TunedConfigFile with_scales(TunedConfigFile f, TunedScales scales) {
  f.mode_a = scales.a;
  f.mode_b = scales.b;
  for (auto& [m, b] : f.batches) {
    b.config.mode_a = scales.a;
    b.config.mode_b = scales.b;
  }
  return f;
}

TEST(TuneLookup, EachScalePairHasItsOwnFiles) {
  TempDir dir;
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  const TunedScales token_channel{ScaleModeA::kToken, ScaleModeB::kChannel};
  write_tuned_config_file(dir.path(), sample_file());
  TunedConfigFile tc = with_scales(sample_file(), token_channel);
  tc.batches.erase(1);
  tc.batches.at(64).config.block_n = 96;
  const fs::path written = write_tuned_config_file(dir.path(), tc);
  EXPECT_EQ(written.filename(), tuned_config_file_name(7168, 2048, DType::kBFloat16, h100, token_channel));
  EXPECT_EQ(read_tuned_config_file(written), tc);

  std::vector<std::string> warnings;
  TunedConfigLookup lookup(dir.path(), [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(lookup.find({64, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));  // block scaling
  const auto found = lookup.find({64, 7168, 2048}, DType::kBFloat16, h100, token_channel);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, tc.batches.at(64).config);
  EXPECT_EQ(found->mode_a, ScaleModeA::kToken);
  EXPECT_EQ(found->mode_b, ScaleModeB::kChannel);
  EXPECT_TRUE(warnings.empty());
  // A pair the directory has no file for falls back to the heuristic silently; a shape missing
  // from a pair it has files for is warned about, with the pair.
  EXPECT_FALSE(lookup.find({64, 7168, 2048}, DType::kBFloat16, h100, {ScaleModeA::kTensor, ScaleModeB::kTensor}));
  EXPECT_TRUE(warnings.empty());
  EXPECT_FALSE(lookup.find({64, 4096, 512}, DType::kBFloat16, h100, token_channel));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("scales a-token_b-channel"), std::string::npos) << warnings[0];
}

TEST(TuneLookup, FastAccumulationReusesExactTunesWhereTheyStayValid) {
  // 128 rows on one warpgroup, 128 wide: valid when it promotes, too wide for the unpromoted
  // two-slice kernel (kMaxTwoSliceUnpromotedN).
  const TunedScales tensor{ScaleModeA::kTensor, ScaleModeB::kTensor};
  TunedConfigFile f = with_scales(sample_file(), tensor);
  f.batches.erase(1);
  f.batches.at(256).config = gemm_config(128, 128, 4, 1);
  f.batches.at(256).config.mode_a = tensor.a;
  f.batches.at(256).config.mode_b = tensor.b;
  ASSERT_TRUE(is_valid(f.batches.at(256).config));
  TunedConfigStore store;
  store.add(f);
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  const auto exact = store.find({256, 7168, 2048}, DType::kBFloat16, h100, tensor);
  ASSERT_TRUE(exact);
  EXPECT_EQ(*exact, f.batches.at(256).config);
  EXPECT_FALSE(exact->fast_accum);
  // Fast accumulation: the M = 256 tile is invalid unpromoted, so the nearest valid one serves.
  const auto fast = store.find({256, 7168, 2048}, DType::kBFloat16, h100, tensor, true);
  ASSERT_TRUE(fast);
  EXPECT_TRUE(fast->fast_accum);
  EXPECT_TRUE(is_valid(*fast));
  EXPECT_EQ(fast->block_m, 64);
  EXPECT_EQ(fast->block_n, 128);
}

WorkerCommand fake_worker(const std::string& spec) { return {{FP8KIT_CLI_PATH, "tune-worker", "--fake", spec}, {}}; }

TEST(TuneRun, TunesTheScalePairItIsGivenIntoItsOwnFile) {
  TempDir dir;
  TuneOptions o;
  o.items = plan_tune_work({{576, 7168}}, DType::kBFloat16, {1, 64});
  o.save_path = dir.path();
  o.workers.push_back(fake_worker("sleep-ms=0"));
  o.space.mode_a = ScaleModeA::kToken;
  o.space.mode_b = ScaleModeB::kChannel;
  o.search.max_candidates = 12;
  const TuneReport r = run_tune(o);
  ASSERT_EQ(r.items.size(), 1u);
  ASSERT_TRUE(r.items[0].result) << r.items[0].message;
  const TunedScales token_channel{ScaleModeA::kToken, ScaleModeB::kChannel};
  EXPECT_EQ(r.items[0].file, dir.path() / tuned_config_file_name(576, 7168, DType::kBFloat16, "Fake GPU", token_channel));
  EXPECT_FALSE(fs::exists(dir.path() / tuned_config_file_name(576, 7168, DType::kBFloat16, "Fake GPU")));
  const TunedConfigFile f = read_tuned_config_file(r.items[0].file);
  EXPECT_EQ(f.mode_a, ScaleModeA::kToken);
  EXPECT_EQ(f.mode_b, ScaleModeB::kChannel);
  for (const auto& [m, b] : f.batches) {
    EXPECT_EQ(b.config.mode_a, ScaleModeA::kToken) << m;
    EXPECT_EQ(b.config.mode_b, ScaleModeB::kChannel) << m;
    EXPECT_NE(kernel_name(b.config).find("a-token_b-channel"), std::string::npos);
  }
  std::vector<std::string> problems;
  const TunedConfigStore store = TunedConfigStore::load_dir(dir.path(), problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(store.find({64, 576, 7168}, DType::kBFloat16, "Fake GPU", token_channel), f.batches.at(64).config);
  EXPECT_FALSE(store.find({64, 576, 7168}, DType::kBFloat16, "Fake GPU"));  // block scaling was not tuned
}

}  // namespace
}  // namespace fp8kit::tune
