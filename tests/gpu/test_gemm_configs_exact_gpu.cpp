// The exact tier over what users run and what the tuner may pick (issue 12's "exactness unchanged"):
// every config of the shipped tuned files, and a stratified sample of the search space (one config,
// stage count drawn at random, per tile shape x warpgroups x cluster), each on a shape made for it:
// ragged last tiles in M and N, enough N tiles to reach every position a tile can start at inside a
// 128-wide B scale block (every compiled promotion split), and a K that wraps the ring twice; run
// again with one cluster walking every tile (the ring carried across tiles) for the same bits.
// One command: fp8kit_gpu_tests --gtest_filter='GemmConfigsExactGpu.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "core/gemm_config.hpp"
#include "core/tuned_config_file.hpp"
#include "core/tuned_configs.hpp"
#include "cuda/resources.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "jit/compiler.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

// A shape that exercises `c`: an even number of tiles along each cluster axis, the last tile of
// each axis ragged, one tile per start position of the tile inside a B scale block, and each split
// of K wrapping the ring twice (the last split one K block short).
GemmShape shape_for(const GemmConfig& c) {
  const int starts = static_cast<int>(kGemmScaleBlock) / std::gcd(c.block_n, static_cast<int>(kGemmScaleBlock));
  const int n_tiles = std::max(2, starts + starts % 2);
  const int m_tiles = 2 * c.cluster_m;
  const int n_short = c.block_n > 16 ? 16 : 0;  // N stays a multiple of 16 (the TMA row stride rule)
  const int k_blocks = c.split_k * (2 * c.stages + 1) - (c.split_k > 1 ? 1 : 0);
  return {static_cast<std::int64_t>(m_tiles) * c.block_m - 5, static_cast<std::int64_t>(n_tiles) * c.block_n - n_short,
          static_cast<std::int64_t>(kGemmScaleBlock) * k_blocks};
}

// The kernels compile in parallel into the JIT cache first (hundreds of them: one at a time on
// first use would take minutes).
void precompile(const std::vector<GemmConfig>& configs) {
  std::vector<jit::KernelSource> sources;
  for (const GemmConfig& c : configs) sources.push_back(ops::sm90_fp8_gemm_source(c));
  jit::KernelCompiler().compile_all(sources);
}

void expect_exact_on_own_shape(const GemmConfig& c, std::mt19937_64& rng, cudaStream_t stream) {
  const GemmShape s = shape_for(c);
  ASSERT_TRUE(is_valid(c, s)) << kernel_name(c) << " on its own shape " << s.m << "x" << s.n << "x" << s.k;
  const Problem p = exact_problem(s, c.mode_a, c.mode_b, rng);  // shipped files hold several scale pairs
  const auto want = cpu_reference(p, c.out, {});
  DeviceProblem d(p, c.out, std::nullopt, {});
  const auto got = d.run_config(p, c, stream);
  EXPECT_TRUE(same_bits(want, got, s.n, c.out)) << kernel_name(c) << " M=" << s.m << " N=" << s.n << " K=" << s.k;
  // Again with one cluster walking every tile: each later tile starts where the last left the ring
  // (mid-lap: 2 x stages + 1 K blocks a tile), and a tile's bits must not depend on its CTA.
  EXPECT_EQ(got, d.run_config(p, c, stream, 1)) << "one cluster walking every tile differs: " << kernel_name(c);
}

// Instrumented runs are slow: under the sanitizer each test runs its first few configs only.
constexpr std::size_t kSanitizerConfigs = 8;

// Every config of the tuned files the library reads with nothing set (FP8KIT_CONFIG_DIR, else the
// shipped root: each device's folder), by kernel name.
std::vector<GemmConfig> shipped_configs() {
  const TunedConfigSource source = default_tuned_config_source(std::getenv("FP8KIT_CONFIG_DIR"), shipped_config_roots());
  std::vector<std::filesystem::path> dirs;
  if (source.kind == TunedConfigSource::Kind::kDir) dirs.push_back(source.path);
  if (source.kind == TunedConfigSource::Kind::kShipped) {
    for (const auto& device : std::filesystem::directory_iterator(source.path)) {
      if (device.is_directory()) dirs.push_back(device.path());
    }
  }
  std::unordered_set<GemmConfig> unique;
  for (const auto& dir : dirs) {
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
      if (file.path().extension() != ".json") continue;
      for (const auto& [m, batch] : read_tuned_config_file(file.path()).batches) {
        GemmConfig c = batch.config;
        c.group_size_m = GemmConfig{}.group_size_m;  // a run-time value: one kernel serves all
        unique.insert(c);
      }
    }
  }
  std::vector<GemmConfig> configs(unique.begin(), unique.end());
  std::sort(configs.begin(), configs.end(),
            [](const GemmConfig& a, const GemmConfig& b) { return kernel_name(a) < kernel_name(b); });
  return configs;
}

TEST(GemmConfigsExactGpu, EveryShippedConfig) {
  const std::vector<GemmConfig> configs = shipped_configs();
  ASSERT_FALSE(configs.empty()) << "no tuned configs found (FP8KIT_CONFIG_DIR or shipped_config_roots())";
  std::mt19937_64 rng(test::fresh_seed("shipped configs exact"));
  cuda::Stream stream;
  const std::size_t runs = under_sanitizer() ? std::min<std::size_t>(kSanitizerConfigs, configs.size()) : configs.size();
  const std::vector<GemmConfig> run(configs.begin(), configs.begin() + static_cast<std::ptrdiff_t>(runs));
  precompile(run);
  for (const GemmConfig& c : run) expect_exact_on_own_shape(c, rng, stream.get());
  std::printf("ran: %zu of %zu shipped configs (any failure is listed above)\n", runs, configs.size());
}

TEST(GemmConfigsExactGpu, StratifiedSampleOfTheSearchSpace) {
  std::mt19937_64 rng(test::fresh_seed("search space sample exact"));
  using Stratum = std::tuple<int, int, int, int, int>;  // block_m, block_n, warpgroups, cluster_m, cluster_n
  const std::vector<GemmConfig> space = gemm_search_space();
  std::map<Stratum, std::vector<GemmConfig>> strata;
  for (const GemmConfig& c : space) {
    strata[{c.block_m, c.block_n, c.consumer_warpgroups, c.cluster_m, c.cluster_n}].push_back(c);
  }
  std::vector<GemmConfig> sample;
  for (const auto& [stratum, configs] : strata) {
    if (under_sanitizer() && sample.size() == kSanitizerConfigs) break;
    sample.push_back(configs[std::uniform_int_distribution<std::size_t>(0, configs.size() - 1)(rng)]);
  }
  // The tuner's split-K variants (2-8 splits of a cluster-1 config): one random config per split
  // count, among those the split leaves valid (its fp32 epilogue tile needs more shared memory).
  int splits = 0;
  for (int split = 2; split <= 8 && !under_sanitizer(); ++split, ++splits) {
    std::vector<GemmConfig> split_configs;
    for (GemmConfig c : space) {
      c.split_k = split;
      if (gemm_cluster_size(c) == 1 && is_valid(c)) split_configs.push_back(c);
    }
    ASSERT_FALSE(split_configs.empty()) << "split " << split;
    sample.push_back(split_configs[std::uniform_int_distribution<std::size_t>(0, split_configs.size() - 1)(rng)]);
  }
  precompile(sample);
  cuda::Stream stream;
  for (const GemmConfig& c : sample) expect_exact_on_own_shape(c, rng, stream.get());
  std::printf("ran: %zu configs, one per stratum of %zu and %d split-K ones\n", sample.size(), strata.size(), splits);
}

}  // namespace
}  // namespace fp8kit
