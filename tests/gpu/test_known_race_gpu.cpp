// The one config refused as a known race (src/core/gemm_config.cpp: m128n80, two consumers, 4
// stages, no cluster; session 8 saw wrong elements in the first consumer's rows in 5 of 8 runs at
// 4096 x 512, M = 2048). The kernel has been rewritten since; this stress run tells whether it still
// races, beside its 5-stage twin, before the rule is lifted or the cause is hunted. Disabled: it
// admits the refused config through FP8KIT_TEST_ADMIT_KNOWN_RACE. Run it with
//   fp8kit_gpu_tests --gtest_also_run_disabled_tests --gtest_filter='KnownRaceGpu.*'
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "cuda/resources.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

constexpr int kRuns = 16;

// Admits the refused config for the test's lifetime.
struct AdmitKnownRace {
  AdmitKnownRace() { setenv("FP8KIT_TEST_ADMIT_KNOWN_RACE", "1", 1); }
  ~AdmitKnownRace() { unsetenv("FP8KIT_TEST_ADMIT_KNOWN_RACE"); }
};

// Tile-relative rows (0-127) of the elements that differ: rows below 64 are the first consumer's.
std::set<int> wrong_tile_rows(const std::vector<std::uint8_t>& want, const std::vector<std::uint8_t>& got,
                              std::int64_t n) {
  std::set<int> rows;
  for (std::size_t i = 0; i < want.size() / 2; ++i) {
    if (std::memcmp(&want[2 * i], &got[2 * i], 2) != 0) rows.insert(static_cast<int>(static_cast<std::int64_t>(i) / n % 128));
  }
  return rows;
}

TEST(KnownRaceGpu, DISABLED_M128N80FourStagesStaysExactUnderRepeats) {
  const AdmitKnownRace admit;
  std::mt19937_64 rng(test::fresh_seed("known race"));
  cuda::Stream stream;
  for (std::int64_t k : {512, 896}) {
    const GemmShape s{2048, 4096, k};
    const Problem p = exact_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
    const auto want = cpu_reference(p, DType::kBFloat16, {});
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    for (int stages : {4, 5}) {
      const GemmConfig c = test::gemm_config(128, 80, stages, 2);
      ASSERT_TRUE(is_valid(c, s)) << to_string(c);
      int wrong = 0;
      std::set<int> rows;
      for (int run = 0; run < kRuns; ++run) {
        const auto got = d.run_config(p, c, stream.get());
        if (got == want) continue;
        ++wrong;
        const std::set<int> r = wrong_tile_rows(want, got, s.n);
        rows.insert(r.begin(), r.end());
      }
      std::printf("%s K=%lld: %d of %d runs wrong; tile rows:", kernel_name(c).c_str(), static_cast<long long>(k), wrong,
                  kRuns);
      for (int r : rows) std::printf(" %d", r);
      std::printf("\n");
      EXPECT_EQ(wrong, 0) << kernel_name(c) << " K=" << k;
    }
  }
}

}  // namespace
}  // namespace fp8kit
