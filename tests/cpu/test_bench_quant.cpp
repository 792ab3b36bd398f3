// `fp8kit bench quant` without a GPU: byte counts, verification of a result against the
// reference, speedup summaries, the table printer and result files (options, expansion and the
// CLI's exit codes: test_bench_quant_cli.cpp).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

#include "bench/quant_plan.hpp"
#include "bench/quant_report.hpp"
#include "bench/quant_verify.hpp"
#include "bench/result_files.hpp"
#include "bench/run_context.hpp"
#include "bench/table.hpp"
#include "core/files.hpp"
#include "core/fp8_codec.hpp"
#include "core/ref_quant.hpp"
#include "cuda/device.hpp"

namespace fp8kit::bench {
namespace {
namespace fs = std::filesystem;

// --- bytes -------------------------------------------------------------------------------------

QuantConfig config_of(std::int64_t m, std::int64_t h, int g, ScaleLayout layout = ScaleLayout::kRowMajor) {
  return {m, h, g, spec_for_group_size(g, layout)};
}

TEST(BenchQuantBytes, PerMode) {
  const std::int64_t n = 4096 * 7168;
  QuantBytes b = quant_bytes(config_of(4096, 7168, kGroupPerToken), DType::kBFloat16);
  EXPECT_EQ(b.moved, 2 * n + n + 4096 * 4);
  EXPECT_EQ(b.floor, b.moved);
  // Dynamic per-tensor: the same useful bytes, but its floor reads x twice.
  b = quant_bytes(config_of(4096, 7168, kGroupPerTensor), DType::kBFloat16);
  EXPECT_EQ(b.moved, 2 * n + n + 4);
  EXPECT_EQ(b.floor, 2 * n + 2 * n + n + 4);
  b = quant_bytes(config_of(4096, 7168, 128), DType::kFloat32);
  EXPECT_EQ(b.moved, 4 * n + n + 4096 * 56 * 4);
  b = quant_bytes(config_of(16, 7168, 128, ScaleLayout::kColMajor), DType::kFloat16);
  EXPECT_EQ(b.moved, 2 * 16 * 7168 + 16 * 7168 + 16 * 56 * 4);
  // TMA-aligned column-major scales pad M to a multiple of 4; the padding is written too.
  b = quant_bytes(config_of(3, 256, 64, ScaleLayout::kColMajorTmaAligned), DType::kBFloat16);
  EXPECT_EQ(b.moved, 2 * 3 * 256 + 3 * 256 + 4 * 4 * 4);
  EXPECT_EQ(b.floor, b.moved);
}

// --- inputs and verification -----------------------------------------------------------------

TEST(BenchQuantVerify, InputsAreReproducibleBySeed) {
  const auto a = make_quant_input(DType::kBFloat16, 4, 256, 7, InputKind::kNormal);
  EXPECT_EQ(a.size(), 4u * 256u * 2u);
  EXPECT_EQ(a, make_quant_input(DType::kBFloat16, 4, 256, 7, InputKind::kNormal));
  EXPECT_NE(a, make_quant_input(DType::kBFloat16, 4, 256, 8, InputKind::kNormal));
  EXPECT_NE(shape_seed(1, 16, 4096), shape_seed(1, 4096, 16));
  EXPECT_EQ(make_quant_input(DType::kFloat32, 3, 5, 1, InputKind::kNormal).size(), 60u);
}

TEST(BenchQuantVerify, AdversarialInputHasEveryPattern) {
  // One row of 640 columns: five 128-column stretches, one per pattern.
  const auto x = make_quant_input(DType::kFloat32, 1, 640, 3, InputKind::kAdversarial);
  auto at = [&](std::int64_t c) { return ref::load_as_float(x.data(), DType::kFloat32, c); };
  for (std::int64_t c = 0; c < 128; ++c) EXPECT_EQ(at(c), 0.0f);
  for (std::int64_t c = 128; c < 256; ++c) EXPECT_LT(std::fabs(at(c)), 448.0f * ref::kMinDynamicScale);
  EXPECT_EQ(at(261), -30000.0f);  // 261 = 9 * 29: an outlier column
  EXPECT_EQ(at(384), 448.0f);
  for (std::int64_t c = 385; c < 512; ++c) {
    if (c % 32 == 0) continue;
    // Halfway between two neighbouring codes, so never a code itself.
    const float v = std::fabs(at(c));
    EXPECT_LT(v, 448.0f) << c;
    EXPECT_NE(e4m3_to_float(e4m3_from_float(v)), v) << c;
  }
}

ref::QuantOutput reference(const std::vector<std::byte>& x, std::int64_t m, std::int64_t h, const QuantSpec& spec) {
  return ref::quantize(x.data(), DType::kBFloat16, m, h, h, spec);
}

TEST(BenchQuantVerify, FirstMismatchNamesTheElement) {
  const std::int64_t m = 3, h = 128;
  const auto x = make_quant_input(DType::kBFloat16, m, h, 11, InputKind::kNormal);
  const QuantSpec spec = spec_for_group_size(64, ScaleLayout::kColMajorTmaAligned);
  const ref::QuantOutput expected = reference(x, m, h, spec);
  std::vector<std::uint8_t> q = expected.q;
  std::vector<float> s = expected.scales;
  EXPECT_EQ(first_mismatch(expected, m, h, q, s), std::nullopt);

  q[static_cast<std::size_t>(1 * h + 70)] ^= 1;
  auto why = first_mismatch(expected, m, h, q, s);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("q[row 1, col 70]"), std::string::npos) << *why;
  q = expected.q;

  // Column-major TMA-aligned: scale (row 2, col 1) lives at 2 + 1 * round_up(3, 4) = 6.
  s[6] *= 2.0f;
  why = first_mismatch(expected, m, h, q, s);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("scale[row 2, col 1]"), std::string::npos) << *why;
  s = expected.scales;

  s[3] = 1.0f;  // padding row of column 0 must stay 0
  why = first_mismatch(expected, m, h, q, s);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("scale padding [3]"), std::string::npos) << *why;

  s.pop_back();
  why = first_mismatch(expected, m, h, q, s);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("scale buffer has"), std::string::npos) << *why;
}

TEST(BenchQuantVerify, NegativeZeroScaleIsAMismatch) {
  // Bits, not values: a -0 padding entry is not the 0 the layout requires.
  const auto x = make_quant_input(DType::kBFloat16, 1, 64, 5, InputKind::kNormal);
  const ref::QuantOutput expected = reference(x, 1, 64, spec_for_group_size(32, ScaleLayout::kColMajorTmaAligned));
  std::vector<float> s = expected.scales;
  s[1] = -0.0f;
  EXPECT_TRUE(first_mismatch(expected, 1, 64, expected.q, s));
}

// --- speedups and tables -----------------------------------------------------------------------

QuantMeasurement measured(const QuantConfig& c, QuantImpl impl, double us, bool ok = true) {
  QuantMeasurement m;
  m.config = c;
  m.impl = impl;
  m.us.median = us;
  m.us.p20 = us * 0.9;
  m.us.p80 = us * 1.1;
  m.bytes = quant_bytes(c, DType::kBFloat16);
  m.copy_gbps = 3000;
  m.empty_us = 0.8;
  if (!ok) m.status = failed_status("q[row 0, col 1] = 0x00, expected 0x38");
  return m;
}

TEST(BenchQuantReport, GeomeanGroupsByLayoutAndShapeAndExcludesFailures) {
  const auto naive = QuantImpl::kNaive;
  const auto ours = QuantImpl::kFp8kit;
  const std::vector<QuantMeasurement> rows = {
      measured(config_of(16, 4096, kGroupPerToken), naive, 10), measured(config_of(16, 4096, kGroupPerToken), ours, 5),
      measured(config_of(64, 4096, kGroupPerToken), naive, 16), measured(config_of(64, 4096, kGroupPerToken), ours, 2),
      measured(config_of(16, 4096, 128), naive, 9), measured(config_of(16, 4096, 128), ours, 3),
      // Column-major: one pair whose fp8kit run FAILED; it must not count.
      measured(config_of(16, 4096, 128, ScaleLayout::kColMajor), naive, 9),
      measured(config_of(16, 4096, 128, ScaleLayout::kColMajor), ours, 0.001, false),
      measured(config_of(64, 4096, 128, ScaleLayout::kColMajor), naive, 12, false),
      measured(config_of(64, 4096, 128, ScaleLayout::kColMajor), ours, 3),
      measured(config_of(128, 4096, 128, ScaleLayout::kColMajor), naive, 20),
      measured(config_of(128, 4096, 128, ScaleLayout::kColMajor), ours, 4),
      // Only failures: no mean at all.
      measured(config_of(16, 4096, kGroupPerTensor), naive, 50, false),
      measured(config_of(16, 4096, kGroupPerTensor), ours, 40),
  };
  const std::vector<SpeedupGroup> g = geomean_speedups(rows, naive, ours);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].layout, "-");
  EXPECT_EQ(g[0].group, "token");
  EXPECT_NEAR(g[0].geomean, std::sqrt(2.0 * 8.0), 1e-12);
  EXPECT_EQ(g[0].pairs, 2);
  EXPECT_EQ(g[0].excluded, 0);
  EXPECT_EQ(g[1].layout, "row-major");
  EXPECT_EQ(g[1].group, "1x128");
  EXPECT_NEAR(g[1].geomean, 3.0, 1e-12);
  EXPECT_EQ(g[2].layout, "col-major");
  EXPECT_NEAR(g[2].geomean, 5.0, 1e-12);
  EXPECT_EQ(g[2].pairs, 1);
  EXPECT_EQ(g[2].excluded, 2);
  EXPECT_EQ(g[3].group, "tensor");
  EXPECT_TRUE(std::isnan(g[3].geomean));
  EXPECT_EQ(g[3].excluded, 1);

  const std::string text = speedup_table(g, naive, ours).render();
  EXPECT_NE(text.find("fp8kit / naive"), std::string::npos) << text;
  EXPECT_NE(text.find("4.00x"), std::string::npos) << text;
  EXPECT_NE(text.find("n/a"), std::string::npos) << text;
}

TEST(BenchQuantReport, BandwidthPercentages) {
  QuantMeasurement m = measured(config_of(4096, 7168, kGroupPerToken), QuantImpl::kFp8kit, 0);
  // 88,096,768 bytes in 40 µs: 2202.4 GB/s; at a 3000 GB/s ceiling 73.4% of it.
  m.us.median = 40;
  EXPECT_NEAR(m.gbps(), static_cast<double>(m.bytes.moved) / 40e3, 1e-9);
  EXPECT_NEAR(m.pct_copy(), 100.0 * m.gbps() / 3000, 1e-9);
  EXPECT_NEAR(m.pct_floor(), m.pct_copy(), 1e-9);
  // Per-tensor: the floor counts the second read, so % floor > % copy.
  QuantMeasurement t = measured(config_of(4096, 7168, kGroupPerTensor), QuantImpl::kFp8kit, 50);
  EXPECT_NEAR(t.pct_floor(), t.pct_copy() * static_cast<double>(t.bytes.floor) / static_cast<double>(t.bytes.moved), 1e-9);
  t.copy_gbps = 0;  // not measured
  EXPECT_TRUE(std::isnan(t.pct_copy()));
  EXPECT_TRUE(std::isnan(t.pct_floor()));
  EXPECT_TRUE(std::isnan(measured(config_of(1, 896, -1), QuantImpl::kNaive, 3, false).gbps()));
}

TEST(BenchQuantReport, TimesAgainstTheEmptyKernel) {
  QuantMeasurement m = measured(config_of(16, 7168, 128), QuantImpl::kFp8kit, 1.0);
  EXPECT_NEAR(m.x_empty(), 1.25, 1e-12);
  m.empty_us = 0;  // not measured
  EXPECT_TRUE(std::isnan(m.x_empty()));
  EXPECT_TRUE(std::isnan(measured(config_of(16, 7168, 128), QuantImpl::kFp8kit, 1.0, false).x_empty()));
}

TEST(BenchTable, GoldenText) {
  Table t;
  t.add_column("impl", Align::kLeft).add_column("µs", Align::kRight).add_column("status", Align::kLeft);
  t.add_row({"naive", format_number(12.345, 2), "ok"});
  t.add_row({"fp8kit", format_number(3.5, 2), "FAILED"});
  t.add_row({"x", format_number(std::nan(""), 2), ""});
  const std::string golden =
      "impl       µs  status\n"
      "---------------------\n"
      "naive   12.35  ok\n"
      "fp8kit   3.50  FAILED\n"
      "x         n/a\n";
  EXPECT_EQ(t.render(), golden);
  EXPECT_THROW(t.add_row({"too", "few"}), Error);
}

TEST(BenchQuantReport, TableShowsFailedWithoutTimes) {
  const std::vector<QuantMeasurement> rows = {
      measured(config_of(16, 7168, 128, ScaleLayout::kColMajorTmaAligned), QuantImpl::kNaive, 10.0),
      measured(config_of(16, 7168, 128, ScaleLayout::kColMajorTmaAligned), QuantImpl::kFp8kit, 1.0, false)};
  const std::string golden =
      " M     H  group  layout         impl       µs   p20    p80  GB/s  % copy  % floor  x empty  status\n"
      "--------------------------------------------------------------------------------------------------\n"
      "16  7168  1x128  col-major-tma  naive   10.00  9.00  11.00    35     1.2      1.2    12.50  ok\n"
      "16  7168  1x128  col-major-tma  fp8kit      -     -      -     -       -        -        -  FAILED\n";
  EXPECT_EQ(quant_table(rows).render(), golden);
}

// --- records and files -------------------------------------------------------------------------

TEST(BenchQuantReport, RecordsCarryContextAndNoTimesWhenFailed) {
  const RunContext ctx = make_run_context(std::nullopt, cuda::LibraryVersions{"13.0", "none", "13.0", "13.1.0"},
                                          "graph", "fp8kit bench quant --check", "2025-01-31T12:34:56Z");
  EXPECT_EQ(ctx.device, "none");
  EXPECT_FALSE(ctx.device_uuid);
  EXPECT_EQ(ctx.timing_mode, "graph");
  EXPECT_EQ(ctx.command_line, "fp8kit bench quant --check");
  EXPECT_FALSE(ctx.git_revision.empty());
  const QuantConfig c = config_of(16, 7168, 128, ScaleLayout::kColMajor);
  const ResultRecord ok = quant_record(measured(c, QuantImpl::kFp8kit, 4.0), DType::kBFloat16, 42, ctx);
  EXPECT_EQ(ok.suite, "quant");
  EXPECT_EQ(ok.name, "fp8kit");
  EXPECT_EQ(ok.status, "ok");
  EXPECT_EQ(ok.params.at("group"), "1x128");
  EXPECT_EQ(ok.params.at("layout"), "col-major");
  EXPECT_EQ(ok.params.at("dtype"), "bfloat16");
  EXPECT_EQ(ok.params.at("seed"), "42");
  EXPECT_EQ(ok.metrics.at("us_median"), 4.0);
  EXPECT_TRUE(ok.metrics.contains("pct_copy_bw"));
  EXPECT_EQ(ok.metrics.at("empty_kernel_us"), 0.8);
  EXPECT_EQ(ok.metrics.at("x_empty_kernel"), 5.0);
  EXPECT_EQ(ok.context, ctx);
  const ResultRecord bad = quant_record(measured(c, QuantImpl::kNaive, 4.0, false), DType::kBFloat16, 42, ctx);
  EXPECT_EQ(bad.status.rfind("FAILED: ", 0), 0u);
  EXPECT_FALSE(bad.metrics.contains("us_median"));
  EXPECT_FALSE(bad.metrics.contains("gbps"));
  EXPECT_FALSE(bad.metrics.contains("x_empty_kernel"));
  EXPECT_EQ(record_from_json(to_json(bad)), bad);

  cuda::DeviceInfo d;
  d.name = "NVIDIA H200";
  d.uuid = "GPU-0";
  d.cc_major = 9;
  const RunContext with_device = make_run_context(d, {}, "cold", "x", "y");
  EXPECT_EQ(with_device.device, "NVIDIA H200");
  EXPECT_EQ(with_device.device_uuid, "GPU-0");
  EXPECT_EQ(with_device.compute_capability, "9.0");
  EXPECT_NO_THROW(current_run_context(TimingMode::kGraph, "x"));  // with or without a GPU
}

TEST(BenchResultFiles, WritesBothFilesAtomically) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / fmt::format("fp8kit-bench-files-{:08x}", rd()) / "nested";
  const RunContext ctx = make_run_context(std::nullopt, {}, "graph", "cmd", "date");
  const std::vector<ResultRecord> records = {
      quant_record(measured(config_of(1, 896, 0), QuantImpl::kNaive, 2.0), DType::kFloat16, 1, ctx),
      quant_record(measured(config_of(1, 896, 0), QuantImpl::kFp8kit, 1.0, false), DType::kFloat16, 1, ctx)};
  const ResultFiles files = write_result_files(dir, "quant_results", records);
  EXPECT_EQ(files.jsonl, dir / "quant_results.jsonl");
  EXPECT_EQ(read_jsonl(files.jsonl), records);
  const std::string csv = read_file(files.csv);
  EXPECT_EQ(csv.rfind("suite,name,status", 0), 0u) << csv;
  EXPECT_NE(csv.find("FAILED: "), std::string::npos);
  for (const auto& entry : fs::directory_iterator(dir)) EXPECT_FALSE(is_atomic_temp_name(entry.path().filename().string()));
  fs::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace fp8kit::bench
