// The fp8kit binary as a user runs it: exit codes (DESIGN.md §8), help, shapes, cache, and info on
// a machine without a GPU.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

#include "cli_runner.hpp"
#include "cuda/device.hpp"

namespace {
namespace fs = std::filesystem;

using fp8kit::test::CliRun;
using fp8kit::test::run_cli;

TEST(Cli, HelpForEverySubcommand) {
  for (const char* sub : {"", "info", "shapes", "cache", "cache ls", "cache clear", "plot"}) {
    const CliRun r = run_cli(fmt::format("{} --help", sub));
    EXPECT_EQ(r.exit_code, 0) << sub << "\n" << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub << "\n" << r.output;
  }
}

TEST(Cli, BadUsageExitsTwo) {
  for (const char* args : {"", "no-such-command", "shapes --tp 0", "shapes --tp x", "info --bogus", "cache", "plot",
                           "plot /no/such/results.jsonl"}) {
    const CliRun r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  }
}

TEST(Cli, UnknownModelExitsTwoAndNamesIt) {
  const CliRun r = run_cli("shapes --model no-org/no-model");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no-org/no-model"), std::string::npos) << r.output;
}

TEST(Cli, ShapesOfDeepSeekV3AtTp8) {
  const CliRun r = run_cli("shapes --model deepseek-ai/DeepSeek-V3 --tp 8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4608"), std::string::npos) << r.output;  // 36864 / 8
  EXPECT_NE(r.output.find("18432"), std::string::npos) << r.output;  // never split
}

TEST(Cli, ShapesListsModels) {
  const CliRun r = run_cli("shapes --list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("meta-llama/Llama-3.1-8B-Instruct"), std::string::npos) << r.output;
}

TEST(Cli, VersionCarriesTheGitRevision) {
  const CliRun r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("git "), std::string::npos) << r.output;
}

TEST(Cli, CacheLsAndClearUseTheCacheDir) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / fmt::format("fp8kit-cli-cache-{:08x}", rd());
  const CliRun ls = run_cli(fmt::format("--cache-dir '{}' cache ls", dir.string()));
  EXPECT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find(dir.string()), std::string::npos) << ls.output;
  EXPECT_NE(ls.output.find("0 entries"), std::string::npos) << ls.output;
  const CliRun env_ls = run_cli("cache ls", fmt::format("FP8KIT_CACHE_DIR='{}'", dir.string()));
  EXPECT_NE(env_ls.output.find(dir.string()), std::string::npos) << env_ls.output;
  const CliRun clear = run_cli(fmt::format("--cache-dir '{}' cache clear", dir.string()));
  EXPECT_EQ(clear.exit_code, 0) << clear.output;
  fs::remove_all(dir);
}

TEST(Cli, InfoWorksWithoutAGpuAndMeasureNeedsOne) {
  const CliRun info = run_cli("info");
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("NVRTC"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("cuBLASLt"), std::string::npos) << info.output;
  const CliRun json = run_cli("info --json");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"nvrtc\""), std::string::npos) << json.output;
  if (fp8kit::cuda::device_count() == 0) {
    EXPECT_NE(info.output.find("device: none"), std::string::npos) << info.output;
    const CliRun measure = run_cli("info --measure");
    EXPECT_EQ(measure.exit_code, 3) << measure.output;
    EXPECT_NE(measure.output.find("needs a CUDA GPU"), std::string::npos) << measure.output;
  }
}

}  // namespace
