// The configs shipped in configs/ load without a problem and every entry is a valid config for its
// shape: a rule change that invalidates a shipped config fails here, not at a user's first GEMM.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/test_util.hpp"
#include "core/gemm_config.hpp"
#include "core/tuned_configs.hpp"

namespace fp8kit::tune {
namespace {

// Each GPU's folder: 15 block-scaled files (DeepSeek-V3 at TP 8) and 8 per-token x per-channel ones
// (Llama-3.1-8B and Qwen2.5-7B at TP 1, tuned for decode: M = 1, 16, 64), served to that GPU only.
// The H100's are the H200's with 5 entries re-chosen on an H100 (configs/README.md).
void expect_shipped_folder(const std::string& device, const std::string& other_device) {
  const std::filesystem::path dir = std::filesystem::path(FP8KIT_SOURCE_DIR) / "configs" / device_file_tag(device);
  std::vector<std::string> problems;
  const TunedConfigStore store = TunedConfigStore::load_dir(dir, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(store.size(), 23u);
  for (std::int64_t m : {1, 16, 64, 128, 512, 1024, 2048, 4096, 3000}) {
    const GemmShape s{m, 24576, 7168};
    const auto c = store.find(s, DType::kBFloat16, device);
    ASSERT_TRUE(c.has_value()) << "M = " << m;
    EXPECT_TRUE(is_valid(*c, s)) << to_string(*c);
  }
  EXPECT_FALSE(store.find({128, 24576, 7168}, DType::kBFloat16, other_device).has_value());
  const TunedScales token_channel{ScaleModeA::kToken, ScaleModeB::kChannel};
  for (const auto& [n, k] : {std::pair{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}, {4608, 3584},
                             {3584, 3584}, {37888, 3584}, {3584, 18944}}) {
    for (std::int64_t m : {1, 16, 64}) {
      const GemmShape s{m, n, k};
      const auto c = store.find(s, DType::kBFloat16, device, token_channel);
      ASSERT_TRUE(c.has_value()) << n << " " << k << " M = " << m;
      EXPECT_TRUE(is_valid(*c, s)) << to_string(*c);
      EXPECT_EQ(std::make_pair(c->mode_a, c->mode_b), std::make_pair(ScaleModeA::kToken, ScaleModeB::kChannel));
    }
  }
}

TEST(ShippedConfigs, H200LoadsAndEveryConfigIsValid) { expect_shipped_folder("NVIDIA H200", "NVIDIA H100 80GB HBM3"); }

TEST(ShippedConfigs, H100LoadsAndEveryConfigIsValid) { expect_shipped_folder("NVIDIA H100 80GB HBM3", "NVIDIA H200"); }

// scripts/retag_tuned_configs.py (gemm_decompose.sh's premise): the shipped block tiles, copied to
// tensor x tensor, load and serve tensor x tensor GEMMs the same tiles, exact and (where valid
// unpromoted) fast.
TEST(ShippedConfigs, RetaggedToTensorTheyServeTheSameTiles) {
  const std::filesystem::path src = std::filesystem::path(FP8KIT_SOURCE_DIR) / "configs" / "NVIDIA_H200";
  test::TempDir dst;
  const std::string cmd = fmt::format("python3 '{}/scripts/retag_tuned_configs.py' '{}' '{}' --mode-a tensor --mode-b tensor "
                                      "> /dev/null",
                                      FP8KIT_SOURCE_DIR, src.string(), dst.path().string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<std::string> problems;
  const TunedConfigStore block = TunedConfigStore::load_dir(src, problems);
  const TunedConfigStore tensor = TunedConfigStore::load_dir(dst.path(), problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(tensor.size(), 15u);  // the block-scaled files only
  const TunedScales pair{ScaleModeA::kTensor, ScaleModeB::kTensor};
  int fast_served = 0;
  for (const auto& [n, k] : {std::pair{2112, 7168}, std::pair{576, 7168}, std::pair{7168, 2048}, std::pair{32768, 512}}) {
    for (std::int64_t m : {1, 16, 64, 128, 512, 2048, 4096}) {
      const GemmShape s{m, n, k};
      auto want = block.find(s, DType::kBFloat16, "NVIDIA H200");
      ASSERT_TRUE(want) << n << " " << k << " " << m;
      want->mode_a = pair.a;
      want->mode_b = pair.b;
      EXPECT_EQ(tensor.find(s, DType::kBFloat16, "NVIDIA H200", pair), want) << to_string(*want);
      if (const auto fast = tensor.find(s, DType::kBFloat16, "NVIDIA H200", pair, true)) {
        EXPECT_TRUE(fast->fast_accum);
        EXPECT_TRUE(is_valid(*fast, s)) << to_string(*fast);
        fast_served += 1;
      }
    }
  }
  EXPECT_GT(fast_served, 0);
}

// scripts/tuned_configs_for_device.py (how one GPU's configs are timed on another): the H200's files,
// rewritten for an H100, serve the H100 the same configs and the H200 none.
TEST(ShippedConfigs, RewrittenForAnotherGpuTheyServeThatGpu) {
  const std::filesystem::path src = std::filesystem::path(FP8KIT_SOURCE_DIR) / "configs" / "NVIDIA_H200";
  test::TempDir dst;
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  const std::string cmd = fmt::format("cp -r '{}' '{}' && python3 '{}/scripts/tuned_configs_for_device.py' --from 'NVIDIA H200' "
                                      "--to '{}' '{}' 2> /dev/null",
                                      src.string(), dst.path().string(), FP8KIT_SOURCE_DIR, h100, dst.path().string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<std::string> problems;
  const TunedConfigStore h200_store = TunedConfigStore::load_dir(src, problems);
  const TunedConfigStore rewritten = TunedConfigStore::load_dir(dst.path() / "NVIDIA_H200", problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(rewritten.size(), 23u);
  for (std::int64_t m : {1, 64, 512, 4096}) {
    const GemmShape s{m, 2112, 7168};
    ASSERT_TRUE(h200_store.find(s, DType::kBFloat16, "NVIDIA H200").has_value());
    EXPECT_EQ(rewritten.find(s, DType::kBFloat16, h100), h200_store.find(s, DType::kBFloat16, "NVIDIA H200"));
    EXPECT_FALSE(rewritten.find(s, DType::kBFloat16, "NVIDIA H200").has_value());
  }
}

}  // namespace
}  // namespace fp8kit::tune
