// DESIGN.md §2's layering, checked on the source tree: an include in src/<layer> may name its own
// layer or one below it, never one above (the library never reaches into the tools, the vendor
// wrappers never into ops). A wrong-way include fails here, in CI, before it can grow.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Bottom first. bench and tune are the tools (fp8kit_tools); tune may use bench's timing.
const std::map<std::string, int> kLayerRank = {{"core", 0}, {"cuda", 1}, {"jit", 2},   {"blas", 3},
                                               {"ops", 4},  {"bench", 5}, {"tune", 6}, {"cli", 7}};

std::vector<std::string> wrong_way_includes(const fs::path& src) {
  const std::regex include_re(R"re(^\s*#\s*include\s+"([a-z_]+)/)re");
  std::vector<std::string> wrong;
  for (const auto& [layer, rank] : kLayerRank) {
    for (const auto& entry : fs::directory_iterator(src / layer)) {
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const auto to = kLayerRank.find(m[1].str());
        if (to != kLayerRank.end() && to->second > rank) {
          wrong.push_back(entry.path().filename().string() + ":" + std::to_string(number) + " (" + layer + " -> " +
                          to->first + ")");
        }
      }
    }
  }
  return wrong;
}

TEST(Layering, IncludesPointDown) {
  const fs::path src = fs::path(FP8KIT_SOURCE_DIR) / "src";
  ASSERT_TRUE(fs::is_directory(src / "ops")) << src;
  std::string joined;
  for (const std::string& w : wrong_way_includes(src)) joined += "\n  " + w;
  EXPECT_TRUE(joined.empty()) << "includes that point up:" << joined;
  // Every folder of src is a known layer: a new one must be placed in kLayerRank.
  for (const auto& entry : fs::directory_iterator(src)) {
    if (!entry.is_directory()) continue;
    EXPECT_TRUE(kLayerRank.contains(entry.path().filename().string())) << entry.path();
  }
}

}  // namespace
