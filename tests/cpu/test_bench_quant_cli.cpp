// `fp8kit bench quant` without a GPU: its options, the expansion into configurations, and the CLI's
// exit codes (bad usage 2, no GPU 3).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_runner.hpp"
#include "bench/quant_plan.hpp"
#include "cuda/device.hpp"

namespace fp8kit::bench {
namespace {
namespace fs = std::filesystem;

// --- options and expansion -------------------------------------------------------------------

TEST(BenchQuantOptions, DefaultsAreTheIssues) {
  const QuantSuiteOptions o;
  EXPECT_FALSE(o.check);
  EXPECT_EQ(o.dtype, DType::kBFloat16);
  EXPECT_EQ(o.batch_sizes, (std::vector<std::int64_t>{1, 16, 128, 512, 1024}));
  EXPECT_EQ(o.hidden_sizes, (std::vector<std::int64_t>{896, 1024, 2048, 4096, 7168}));
  EXPECT_EQ(o.group_sizes, (std::vector<int>{0, -1, 64, 128}));
  EXPECT_TRUE(o.column_major);
  EXPECT_EQ(o.impls, (std::vector<QuantImpl>{QuantImpl::kNaive, QuantImpl::kFp8kit}));
  EXPECT_EQ(o.timing, TimingMode::kGraph);
  EXPECT_EQ(o.out_dir, fs::path("bench_results"));
  EXPECT_FALSE(o.seed.has_value());
  EXPECT_NO_THROW(validate_options(o));
}

TEST(BenchQuantPlan, DefaultSweepCounts) {
  QuantSuiteOptions o;
  // Per (H, M): per-tensor, per-token, and 3 layouts for each of the two group sizes.
  QuantPlan plan = expand_configs(o);
  EXPECT_EQ(plan.configs.size(), 5u * 5u * (1 + 1 + 3 + 3));
  EXPECT_TRUE(plan.skipped.empty());
  o.column_major = false;
  plan = expand_configs(o);
  EXPECT_EQ(plan.configs.size(), 5u * 5u * 4u);
  for (const QuantConfig& c : plan.configs) EXPECT_EQ(c.spec.layout, ScaleLayout::kRowMajor);
}

TEST(BenchQuantPlan, OrderAndLabels) {
  QuantSuiteOptions o;
  o.batch_sizes = {16, 4096};
  o.hidden_sizes = {7168};
  const QuantPlan plan = expand_configs(o);
  ASSERT_EQ(plan.configs.size(), 16u);
  const std::vector<std::string> expected = {"tensor -",           "token -",           "1x64 row-major",
                                             "1x64 col-major",     "1x64 col-major-tma", "1x128 row-major",
                                             "1x128 col-major",    "1x128 col-major-tma"};
  for (std::size_t i = 0; i < plan.configs.size(); ++i) {
    const QuantConfig& c = plan.configs[i];
    EXPECT_EQ(c.m, i < 8 ? 16 : 4096);
    EXPECT_EQ(c.h, 7168);
    EXPECT_EQ(c.group_label() + " " + c.layout_label(), expected[i % 8]) << i;
    EXPECT_NO_THROW(validate(c.spec, c.m, c.h));
  }
  EXPECT_EQ(plan.configs[0].spec.granularity, Granularity::kPerTensor);
  EXPECT_EQ(plan.configs[1].spec.granularity, Granularity::kPerToken);
  EXPECT_EQ(plan.configs[7].spec.granularity, Granularity::kPerGroup);
  EXPECT_EQ(plan.configs[7].spec.group_size, 128);
  EXPECT_EQ(plan.configs[7].spec.layout, ScaleLayout::kColMajorTmaAligned);
  EXPECT_FALSE(plan.configs[7].spec.static_scales);
}

TEST(BenchQuantPlan, ColumnMajorOnlyForGroups) {
  QuantSuiteOptions o;
  o.group_sizes = {0, -1, 32, 64, 128};
  for (const QuantConfig& c : expand_configs(o).configs) {
    if (c.spec.layout != ScaleLayout::kRowMajor) {
      EXPECT_EQ(c.spec.granularity, Granularity::kPerGroup);
    }
    if (c.spec.granularity != Granularity::kPerGroup) {
      EXPECT_EQ(c.layout_label(), "-");
    }
  }
}

TEST(BenchQuantPlan, SkipsHiddenSizesTheGroupDoesNotDivide) {
  QuantSuiteOptions o;
  o.batch_sizes = {1, 16, 128};
  o.hidden_sizes = {1000, 1024};  // 1000 = 8 * 125: divisible by 8 only
  o.group_sizes = {0, -1, 64, 128};
  const QuantPlan plan = expand_configs(o);
  ASSERT_EQ(plan.skipped.size(), 2u);
  EXPECT_EQ(plan.skipped[0].h, 1000);
  EXPECT_EQ(plan.skipped[0].group_size, 64);
  EXPECT_EQ(plan.skipped[0].count, 3 * 3);  // batch sizes x layouts
  EXPECT_NE(plan.skipped[0].reason.find("not a multiple of group_size 64"), std::string::npos) << plan.skipped[0].reason;
  EXPECT_EQ(plan.skipped[1].group_size, 128);
  // H = 1000 keeps per-tensor and per-token; H = 1024 runs everything.
  EXPECT_EQ(plan.configs.size(), 3u * 2u + 3u * 8u);
  for (const QuantConfig& c : plan.configs) {
    if (c.h == 1000) {
      EXPECT_LT(c.group_size, 1);
    }
  }
  o.column_major = false;
  EXPECT_EQ(expand_configs(o).skipped[0].count, 3);
}

TEST(BenchQuantOptions, ImplNames) {
  EXPECT_EQ(quant_impl_name(QuantImpl::kNaive), "naive");
  EXPECT_EQ(quant_impl_name(QuantImpl::kFp8kit), "fp8kit");
  EXPECT_EQ(parse_quant_impl("naive"), QuantImpl::kNaive);
  EXPECT_EQ(parse_quant_impl("fp8kit"), QuantImpl::kFp8kit);
  EXPECT_THROW(parse_quant_impl("Naive"), Error);
}

TEST(BenchQuantOptions, BadValuesNameTheFlag) {
  auto expect_flag = [](const char* flag, auto&& mutate) {
    QuantSuiteOptions o;
    mutate(o);
    try {
      validate_options(o);
      ADD_FAILURE() << flag << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_EQ(std::string(e.what()).rfind(flag, 0), 0u) << e.what();
    }
  };
  expect_flag("--dtype", [](QuantSuiteOptions& o) { o.dtype = DType::kE4M3; });
  expect_flag("--batch-sizes", [](QuantSuiteOptions& o) { o.batch_sizes = {}; });
  expect_flag("--batch-sizes", [](QuantSuiteOptions& o) { o.batch_sizes = {16, 0}; });
  expect_flag("--batch-sizes", [](QuantSuiteOptions& o) { o.batch_sizes = {16, 16}; });
  expect_flag("--hidden-sizes", [](QuantSuiteOptions& o) { o.hidden_sizes = {-4096}; });
  expect_flag("--group-sizes", [](QuantSuiteOptions& o) { o.group_sizes = {96}; });
  expect_flag("--group-sizes", [](QuantSuiteOptions& o) { o.group_sizes = {-2}; });
  expect_flag("--group-sizes", [](QuantSuiteOptions& o) { o.group_sizes = {}; });
  expect_flag("--impl", [](QuantSuiteOptions& o) { o.impls = {}; });
  expect_flag("--impl", [](QuantSuiteOptions& o) { o.impls = {QuantImpl::kNaive, QuantImpl::kNaive}; });
  expect_flag("--out", [](QuantSuiteOptions& o) { o.out_dir.clear(); });
}

// --- the CLI -----------------------------------------------------------------------------------

using test::CliRun;
using test::run_cli;

TEST(BenchQuantCli, Help) {
  for (const char* args : {"bench --help", "bench quant --help"}) {
    const CliRun r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << r.output;
  }
  const CliRun r = run_cli("bench quant --help");
  for (const char* flag : {"--check", "--dtype", "--batch-sizes", "--hidden-sizes", "--group-sizes", "--no-column-major",
                           "--impl", "--timing", "--out", "--seed"}) {
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
  }
}

TEST(BenchQuantCli, BadFlagsExitTwoNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bench", "subcommand is required"},
      {"bench quant --dtype e4m3", "--dtype"},
      {"bench quant --dtype int8", "--dtype"},
      {"bench quant --batch-sizes 0", "--batch-sizes"},
      {"bench quant --batch-sizes x", "--batch-sizes"},
      {"bench quant --hidden-sizes 4096 4096", "--hidden-sizes"},
      {"bench quant --group-sizes 96", "--group-sizes"},
      {"bench quant --impl naive,turbo", "--impl"},
      {"bench quant --timing warm", "--timing"},
      {"bench quant --seed -3", "--seed"},
      {"bench quant --bogus", "--bogus"},
  };
  test::expect_usage_errors(cases);
}

TEST(BenchQuantCli, NoGpuExitsThreeBeforeWritingAnything) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present";
  test::expect_no_gpu_exit_before_writing("bench quant --check --group-sizes -1 128");
}

}  // namespace
}  // namespace fp8kit::bench
