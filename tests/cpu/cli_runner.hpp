// Runs the fp8kit binary as a user would and captures its exit code and output; the exit-code
// checks that several commands share.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace fp8kit::test {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// `env` is prefixed to the command, e.g. "FP8KIT_CACHE_DIR=/tmp/x".
inline CliRun run_cli(const std::string& args, const std::string& env = "") {
  const std::string cmd = fmt::format("{} '{}' {} 2>&1", env, FP8KIT_CLI_PATH, args);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {};
  CliRun r;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Each (arguments, needle): bad usage exits 2 and the message names what was wrong.
inline void expect_usage_errors(const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [args, needle] : cases) {
    const CliRun r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  }
}

// A command that needs a GPU, run without one (`args` without its --out): exit code 3, saying so,
// before it writes anything to the --out folder it was given.
inline void expect_no_gpu_exit_before_writing(const std::string& args) {
  std::random_device rd;
  const std::filesystem::path out = std::filesystem::temp_directory_path() / fmt::format("fp8kit-nogpu-{:08x}", rd());
  const CliRun r = run_cli(fmt::format("{} --out '{}'", args, out.string()));
  EXPECT_EQ(r.exit_code, 3) << args << "\n" << r.output;
  EXPECT_NE(r.output.find("needs a CUDA GPU"), std::string::npos) << args << "\n" << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << args;
}

}  // namespace fp8kit::test
