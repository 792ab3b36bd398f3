// Runs the fp8kit binary as a user would and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

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

}  // namespace fp8kit::test
