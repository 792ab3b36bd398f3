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

TEST(ShippedConfigs, H200DeepSeekV3LoadsAndEveryConfigIsValid) {
  const std::filesystem::path dir = std::filesystem::path(FP8KIT_SOURCE_DIR) / "configs" / "NVIDIA_H200";
  std::vector<std::string> problems;
  const TunedConfigStore store = TunedConfigStore::load_dir(dir, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(store.size(), 15u);
  for (std::int64_t m : {1, 16, 64, 128, 512, 1024, 2048, 4096, 3000}) {
    const GemmShape s{m, 24576, 7168};
    const auto c = store.find(s, DType::kBFloat16, "NVIDIA H200");
    ASSERT_TRUE(c.has_value()) << "M = " << m;
    EXPECT_TRUE(is_valid(*c, s)) << to_string(*c);
  }
  EXPECT_FALSE(store.find({128, 24576, 7168}, DType::kBFloat16, "NVIDIA H100 80GB HBM3").has_value());
}

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
  EXPECT_EQ(tensor.size(), 15u);
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

}  // namespace
}  // namespace fp8kit::tune
