// The configs shipped in configs/ load without a problem and every entry is a valid config for its
// shape: a rule change that invalidates a shipped config fails here, not at a user's first GEMM.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace fp8kit::tune
