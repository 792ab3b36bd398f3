// Shared by the CPU and GPU tests: temporary folders and fresh, printed random seeds.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

namespace fp8kit::test {

// A fresh seed per call, printed so a failure can be replayed (FP8KIT_TEST_SEED overrides it).
inline std::uint64_t fresh_seed(const char* what) {
  std::uint64_t seed;
  if (const char* env = std::getenv("FP8KIT_TEST_SEED")) {
    seed = std::stoull(env);
  } else {
    std::random_device rd;
    seed = (static_cast<std::uint64_t>(rd()) << 32) | rd();
  }
  std::printf("[seed] %s: FP8KIT_TEST_SEED=%llu\n", what, static_cast<unsigned long long>(seed));
  return seed;
}

// A uniquely named folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / fmt::format("fp8kit-test-{:08x}{:08x}", rd(), rd());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace fp8kit::test
