// `bench gemm`'s bandwidth report (issue 13, DESIGN.md §7): bytes that must move over the median
// time, held against the copy ceiling and the cold-read floor in cold timing; the table and the
// record's metrics; and the
// kernel an fp8kit row ran, in its record.
#include <gtest/gtest.h>

#include <vector>

#include "bench/gemm_report.hpp"
#include "core/tuned_configs.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit::bench {
namespace {

GemmMeasurement decode_row(const GemmRun& run, double us, double bytes) {
  GemmMeasurement r;
  r.m = 1;
  r.n = 7168;
  r.k = 16384;
  r.run = run;
  r.us = Summary{us, us * 0.9, us * 1.1, us * 0.8, us * 1.2, 25};
  r.bytes = bytes;
  return r;
}

std::vector<GemmRun> block_and_bf16() {
  return {{parse_provider("bf16"), GemmBackend::kCublasLt, "bf16"},
          {parse_provider("fp8-block-w-group-a-noquant"), GemmBackend::kFp8kit, "fp8kit"}};
}

TEST(BenchGemmBandwidth, TableHoldsBytesOverTimeAgainstTheCeiling) {
  const auto runs = block_and_bf16();
  // 117.44 MB of weights in 33 us: 3559 GB/s, 84% of a 4230 GB/s ceiling; bf16 moves twice the bytes.
  const std::vector<GemmMeasurement> rows = {decode_row(runs[0], 60.0, 234.9e6), decode_row(runs[1], 33.0, 117.44e6)};
  const std::string golden =
      "M        bf16      fp8kit\n"
      "-------------------------\n"
      "1  3915 (93%)  3559 (84%)\n";
  EXPECT_EQ(bandwidth_table(rows, runs, 4230.0).render(), golden) << bandwidth_table(rows, runs, 4230.0).render();
}

// A row with a cold-read floor shows the floor's time as a share of its own beside the ceiling's.
TEST(BenchGemmBandwidth, TableAddsTheReadFloorWhereARowHasOne) {
  const auto runs = block_and_bf16();
  std::vector<GemmMeasurement> rows = {decode_row(runs[0], 60.0, 234.9e6), decode_row(runs[1], 33.0, 117.44e6)};
  rows[1].read_floor_us = 29.7;  // 90% of the row's 33 us
  const std::string golden =
      "M        bf16            fp8kit\n"
      "-------------------------------\n"
      "1  3915 (93%)  3559 (84% / 90%)\n";
  EXPECT_EQ(bandwidth_table(rows, runs, 4230.0).render(), golden) << bandwidth_table(rows, runs, 4230.0).render();
  const ResultRecord rec = gemm_record(rows[1], 7, RunContext{}, 4230.0);
  EXPECT_DOUBLE_EQ(rec.metrics.at("read_floor_us"), 29.7);
  EXPECT_NEAR(rec.metrics.at("pct_read_floor"), 90.0, 1e-9);
  EXPECT_FALSE(gemm_record(rows[0], 7, RunContext{}, 4230.0).metrics.contains("read_floor_us"));
}

TEST(BenchGemmBandwidth, RecordCarriesBandwidthAndCeilingOnlyWhenGiven) {
  const auto runs = block_and_bf16();
  const GemmMeasurement row = decode_row(runs[1], 33.0, 117.44e6);
  RunContext ctx;
  const ResultRecord cold = gemm_record(row, 7, ctx, 4230.0);
  EXPECT_NEAR(cold.metrics.at("gbps_median"), 117.44e6 / 33e3, 1e-9);
  EXPECT_DOUBLE_EQ(cold.metrics.at("copy_ceiling_gbps"), 4230.0);
  EXPECT_NEAR(cold.metrics.at("pct_copy_ceiling"), 100.0 * 117.44e6 / 33e3 / 4230.0, 1e-9);
  const ResultRecord graph = gemm_record(row, 7, ctx);
  EXPECT_TRUE(graph.metrics.contains("gbps_median"));
  EXPECT_FALSE(graph.metrics.contains("pct_copy_ceiling"));
  EXPECT_FALSE(graph.metrics.contains("copy_ceiling_gbps"));
}

// An fp8kit row's record names the kernel it ran (here the heuristic's: tuned configs off); other
// backends' rows and failed rows name none.
TEST(BenchGemmBandwidth, RecordNamesTheFp8kitKernel) {
  set_tuned_config_dir(std::nullopt);
  cuda::DeviceInfo h200;
  h200.name = "NVIDIA H200";
  h200.sm_count = 132;
  const auto runs = block_and_bf16();
  GemmMeasurement row = decode_row(runs[1], 33.0, 117.44e6);
  row.kernel = fp8kit_kernel_name(row, h200);
  const GemmConfig want = ops::default_gemm_config({1, 7168, 16384}, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                                   DType::kBFloat16, 132);
  EXPECT_EQ(row.kernel, kernel_name(want));
  EXPECT_EQ(gemm_record(row, 7, RunContext{}).params.at("kernel"), kernel_name(want));
  const GemmMeasurement bf16 = decode_row(runs[0], 60.0, 234.9e6);
  EXPECT_EQ(fp8kit_kernel_name(bf16, h200), "");
  EXPECT_FALSE(gemm_record(bf16, 7, RunContext{}).params.contains("kernel"));
  row.status = "FAILED: wrong";
  EXPECT_EQ(fp8kit_kernel_name(row, h200), "");
  reset_tuned_config_dir();
}

}  // namespace
}  // namespace fp8kit::bench
