// scaled_mm's remembered config choice (ops/gemm_config_choice.hpp): the same answer as choosing
// afresh (tuned lookup, else heuristic), for every scale pair, and a new answer as soon as the tuned
// directory changes.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "common/gemm_config_builder.hpp"
#include "common/test_util.hpp"
#include "common/tuned_file_builder.hpp"
#include "core/tuned_config_file.hpp"
#include "core/tuned_configs.hpp"
#include "ops/gemm_config_choice.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit::ops {
namespace {

using test::gemm_config;
using test::sample_file;
using test::TempDir;

cuda::DeviceInfo fake_device(const char* name, int sm_count = 132) {
  cuda::DeviceInfo d;
  d.index = 0;
  d.name = name;
  d.sm_count = sm_count;
  return d;
}

GemmConfig chosen_afresh(const GemmShape& s, ScaleModeA a, ScaleModeB b, DType out, bool fast,
                         const cuda::DeviceInfo& device) {
  std::optional<GemmConfig> c = find_tuned_config(s, out, device.name, {a, b}, fast);
  if (!c) c = default_gemm_config(s, a, b, out, device.sm_count);
  c->fast_accum = fast;
  return *c;
}

// Every test leaves the process-wide tuned lookup as it found it (rules 2 and 3).
struct ChoiceTest : ::testing::Test {
  void TearDown() override { reset_tuned_config_dir(); }
};

TEST_F(ChoiceTest, RemembersWhatTheTunedLookupOrTheHeuristicChooses) {
  reset_tuned_config_dir();  // the shipped H200 configs (or $FP8KIT_CONFIG_DIR's): hits and misses
  struct Pair {
    ScaleModeA a;
    ScaleModeB b;
    bool fast;
  };
  const std::vector<Pair> pairs = {{ScaleModeA::kGroup128, ScaleModeB::kBlock128, false},
                                   {ScaleModeA::kToken, ScaleModeB::kChannel, false},
                                   {ScaleModeA::kToken, ScaleModeB::kChannel, true},
                                   {ScaleModeA::kTensor, ScaleModeB::kTensor, true}};
  for (const cuda::DeviceInfo& device : {fake_device("NVIDIA H200"), fake_device("NVIDIA H100 PCIe", 114)}) {
    for (const GemmShape s : {GemmShape{1, 576, 7168}, GemmShape{16, 2112, 7168}, GemmShape{64, 7168, 2048},
                              GemmShape{512, 3072, 1536}, GemmShape{3000, 4096, 4096}}) {
      for (const Pair& p : pairs) {
        for (DType out : {DType::kBFloat16, DType::kFloat32}) {
          SCOPED_TRACE(::testing::Message() << device.name << " " << s.m << "x" << s.n << "x" << s.k << " "
                                            << scale_mode_name(p.a) << "/" << scale_mode_name(p.b) << " fast "
                                            << p.fast << " " << dtype_name(out));
          const GemmConfig expected = chosen_afresh(s, p.a, p.b, out, p.fast, device);
          EXPECT_EQ(choose_gemm_config(s, p.a, p.b, out, p.fast, device), expected);  // chosen, remembered
          EXPECT_EQ(choose_gemm_config(s, p.a, p.b, out, p.fast, device), expected);  // served from memory
        }
      }
    }
  }
  EXPECT_GE(remembered_gemm_configs(), 2u * 5 * 4 * 2);
}

TEST_F(ChoiceTest, ANewTunedDirectoryIsFollowedAtOnce) {
  TempDir dir;
  write_tuned_config_file(dir.path(), sample_file());  // 7168 x 2048 on an H100: m64n128 s4 at M = 64
  const cuda::DeviceInfo h100 = fake_device("NVIDIA H100 80GB HBM3");
  const GemmShape s{64, 7168, 2048};
  const auto choose = [&](const cuda::DeviceInfo& d) {
    return choose_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, false, d);
  };
  set_tuned_config_dir(dir.path());
  EXPECT_EQ(choose(h100), gemm_config(64, 128, 4, 1));
  set_tuned_config_dir(std::nullopt);  // tuned configs off: the heuristic
  const GemmConfig heuristic =
      default_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, 132);
  ASSERT_NE(heuristic, gemm_config(64, 128, 4, 1));
  EXPECT_EQ(choose(h100), heuristic);
  // The same directory with a re-tuned file: a new set reloads it.
  TunedConfigFile retuned = sample_file();
  retuned.batches[64].config = gemm_config(64, 64, 6, 1);
  write_tuned_config_file(dir.path(), retuned);
  set_tuned_config_dir(dir.path());
  EXPECT_EQ(choose(h100), gemm_config(64, 64, 6, 1));
  // Same device index, another name (no file for it): not the H100's remembered choice.
  EXPECT_EQ(choose(fake_device("NVIDIA H200")), heuristic);
  EXPECT_EQ(choose(h100), gemm_config(64, 64, 6, 1));
}

TEST_F(ChoiceTest, TheMemoryIsBoundedAndStaysRight) {
  set_tuned_config_dir(std::nullopt);
  const cuda::DeviceInfo device = fake_device("NVIDIA H200");
  const auto choose = [&](std::int64_t m) {
    return choose_gemm_config({m, 4096, 4096}, ScaleModeA::kToken, ScaleModeB::kChannel, DType::kBFloat16, false,
                              device);
  };
  const std::int64_t calls = static_cast<std::int64_t>(kMaxRememberedGemmConfigs) + 100;
  for (std::int64_t m = 1; m <= calls; ++m) choose(m);
  EXPECT_LE(remembered_gemm_configs(), kMaxRememberedGemmConfigs);
  for (std::int64_t m : {std::int64_t{1}, std::int64_t{64}, calls}) {
    EXPECT_EQ(choose(m), default_gemm_config({m, 4096, 4096}, ScaleModeA::kToken, ScaleModeB::kChannel,
                                             DType::kBFloat16, 132));
  }
}

}  // namespace
}  // namespace fp8kit::ops
