// `fp8kit bench gemm` without a GPU: providers and backends, the plan (labels, skips, shapes
// deduplicated across models and TP), the tables (golden), records and progress text. The CLI's
// exit codes: test_bench_gemm_cli.cpp; inputs and output checks: test_bench_gemm_verify.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "bench/gemm_plan.hpp"
#include "bench/gemm_report.hpp"
#include "core/gemm_spec.hpp"
#include "core/plot.hpp"

namespace fp8kit::bench {
namespace {
namespace fs = std::filesystem;

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no fp8kit::Error thrown";
  return "";
}

// --- providers and backends --------------------------------------------------------------------

TEST(BenchGemmProviders, EveryNameRoundTrips) {
  const std::vector<std::string> expected = {
      "bf16",
      "fp8-tensor-w-tensor-a",  "fp8-tensor-w-tensor-a-noquant",  "fp8-channel-w-token-a",
      "fp8-channel-w-token-a-noquant", "fp8-tensor-w-token-a",    "fp8-tensor-w-token-a-noquant",
      "fp8-channel-w-tensor-a", "fp8-channel-w-tensor-a-noquant", "fp8-block-w-group-a",
      "fp8-block-w-group-a-noquant"};
  EXPECT_EQ(provider_names(), expected);
  for (const std::string& name : expected) EXPECT_EQ(parse_provider(name).name(), name);
}

TEST(BenchGemmProviders, ScaleModesAndNoquant) {
  const GemmProvider bf16 = parse_provider("bf16");
  EXPECT_FALSE(bf16.fp8);
  const GemmProvider ct = parse_provider("fp8-channel-w-token-a");
  EXPECT_TRUE(ct.fp8);
  EXPECT_EQ(ct.weight, ScaleModeB::kChannel);
  EXPECT_EQ(ct.act, ScaleModeA::kToken);
  EXPECT_FALSE(ct.noquant);
  const GemmProvider tc = parse_provider("fp8-tensor-w-token-a-noquant");
  EXPECT_EQ(tc.weight, ScaleModeB::kTensor);
  EXPECT_EQ(tc.act, ScaleModeA::kToken);
  EXPECT_TRUE(tc.noquant);
  const GemmProvider ct2 = parse_provider("fp8-channel-w-tensor-a");
  EXPECT_EQ(ct2.weight, ScaleModeB::kChannel);
  EXPECT_EQ(ct2.act, ScaleModeA::kTensor);
  const GemmProvider block = parse_provider("fp8-block-w-group-a-noquant");
  EXPECT_EQ(block.weight, ScaleModeB::kBlock128);
  EXPECT_EQ(block.act, ScaleModeA::kGroup128);
  EXPECT_TRUE(block.noquant);
}

TEST(BenchGemmProviders, UnknownNamesAreNamed) {
  for (const char* bad : {"fp8", "bf16-noquant", "fp8-block-w-token-a", "FP8-tensor-w-tensor-a", "fp8-tensor-w-tensor-a-"}) {
    const std::string what = error_of([&] { parse_provider(bad); });
    EXPECT_NE(what.find(fmt::format("'{}'", bad)), std::string::npos) << what;
    EXPECT_NE(what.find("fp8-block-w-group-a-noquant"), std::string::npos) << what;  // lists the known names
  }
}

TEST(BenchGemmProviders, DefaultsAreTheScripts) {
  std::vector<std::string> names;
  for (const GemmProvider& p : default_providers()) names.push_back(p.name());
  EXPECT_EQ(names, (std::vector<std::string>{"bf16", "fp8-tensor-w-tensor-a", "fp8-tensor-w-tensor-a-noquant",
                                             "fp8-channel-w-token-a", "fp8-channel-w-token-a-noquant",
                                             "fp8-block-w-group-a", "fp8-block-w-group-a-noquant"}));
  const GemmSuiteOptions o;
  EXPECT_EQ(o.models, (std::vector<std::string>{"meta-llama/Llama-3.1-8B-Instruct"}));
  EXPECT_EQ(o.tp_sizes, (std::vector<int>{1}));
  EXPECT_EQ(o.batch_sizes, (std::vector<std::int64_t>{1, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}));
  EXPECT_EQ(o.backends, (std::vector<GemmBackend>{GemmBackend::kCublasLt, GemmBackend::kFp8kit}));
  // With no flags the own kernel runs every provider beside cuBLASLt, the pairs without 128-wide
  // scales on its exact path (every K block promoted into fp32).
  std::vector<std::string> runs;
  for (const GemmRun& r : make_plan(o).runs) runs.push_back(r.label);
  EXPECT_NE(std::find(runs.begin(), runs.end(), "fp8-block-w-group-a@fp8kit"), runs.end());
  EXPECT_NE(std::find(runs.begin(), runs.end(), "fp8-block-w-group-a-noquant@fp8kit"), runs.end());
  EXPECT_NE(std::find(runs.begin(), runs.end(), "fp8-block-w-group-a-noquant@cublaslt"), runs.end());
  EXPECT_NE(std::find(runs.begin(), runs.end(), "fp8-tensor-w-tensor-a@fp8kit"), runs.end());
  EXPECT_NE(std::find(runs.begin(), runs.end(), "fp8-channel-w-token-a-noquant@fp8kit"), runs.end());
  EXPECT_EQ(o.act_dist, ActDist::kNormal);
  EXPECT_EQ(o.timing, TimingMode::kGraph);
  EXPECT_FALSE(o.fast_accum);
  EXPECT_EQ(o.out_dir, fs::path("bench_results"));
}

TEST(BenchGemmProviders, Backends) {
  EXPECT_EQ(parse_bench_backend("cublaslt"), GemmBackend::kCublasLt);
  EXPECT_EQ(parse_bench_backend("reference"), GemmBackend::kReference);
  EXPECT_EQ(parse_bench_backend("fp8kit"), GemmBackend::kFp8kit);
  EXPECT_NE(error_of([] { parse_bench_backend("cutlass"); }).find("'cutlass'"), std::string::npos);
  EXPECT_NE(error_of([] { parse_bench_backend("auto"); }).find("auto"), std::string::npos);
  EXPECT_EQ(parse_act_dist("outliers"), ActDist::kOutliers);
  EXPECT_NE(error_of([] { parse_act_dist("uniform"); }).find("--act-dist"), std::string::npos);
}

// --- the plan ------------------------------------------------------------------------------------

TEST(BenchGemmPlan, OneBackendLabelsAreProviderNames) {
  GemmSuiteOptions o;
  o.backends = {GemmBackend::kCublasLt};
  const GemmPlan plan = make_plan(o);
  ASSERT_EQ(plan.runs.size(), default_providers().size());
  EXPECT_TRUE(plan.skipped.empty());
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(plan.runs[i].label, default_providers()[i].name());
    EXPECT_EQ(plan.runs[i].backend, GemmBackend::kCublasLt);
  }
}

TEST(BenchGemmPlan, SeveralBackendsLabelProviderAtBackendAndSkipUnsupportedPairs) {
  GemmSuiteOptions o;
  o.providers = {parse_provider("bf16"), parse_provider("fp8-block-w-group-a-noquant"), parse_provider("fp8-tensor-w-tensor-a")};
  o.backends = {GemmBackend::kCublasLt, GemmBackend::kReference, GemmBackend::kFp8kit};
  const GemmPlan plan = make_plan(o);
  std::vector<std::string> labels;
  for (const GemmRun& r : plan.runs) labels.push_back(r.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"bf16@cublaslt", "fp8-block-w-group-a-noquant@cublaslt",
                                              "fp8-block-w-group-a-noquant@reference", "fp8-block-w-group-a-noquant@fp8kit",
                                              "fp8-tensor-w-tensor-a@cublaslt", "fp8-tensor-w-tensor-a@reference",
                                              "fp8-tensor-w-tensor-a@fp8kit"}));
  // bf16 off cuBLASLt is skipped with a note; fp8kit runs the unpromoted pairs with or without --fast-accum.
  std::vector<std::string> skipped;
  for (const SkippedRun& s : plan.skipped) {
    skipped.push_back(s.label);
    EXPECT_FALSE(s.reason.empty());
  }
  EXPECT_EQ(skipped, (std::vector<std::string>{"bf16@reference", "bf16@fp8kit"}));
  o.fast_accum = true;
  EXPECT_EQ(make_plan(o).runs.back().label, "fp8-tensor-w-tensor-a@fp8kit");
}

TEST(BenchGemmPlan, LlamaShapesAtTp1And2) {
  const auto shapes = expand_shapes({"meta-llama/Llama-3.1-8B-Instruct"}, {1, 2});
  const std::vector<std::pair<std::int64_t, std::int64_t>> expected = {
      {6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336},  // TP 1
      {3072, 4096}, {4096, 2048}, {14336, 4096}, {4096, 7168}};  // TP 2
  ASSERT_EQ(shapes.size(), expected.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(std::make_pair(shapes[i].n, shapes[i].k), expected[i]) << i;
    EXPECT_EQ(shapes[i].tps_text(), i < 4 ? "1" : "2");
    EXPECT_EQ(shapes[i].models_text(), "meta-llama/Llama-3.1-8B-Instruct");
  }
  EXPECT_EQ(shapes[0].layers_text(), "qkv_proj");
}

TEST(BenchGemmPlan, ShapesAreDeduplicatedAcrossModelsAndTp) {
  // Llama-3-8b and Llama-3.1-8B-Instruct share every shape.
  const auto shapes = expand_shapes({"meta-llama/Llama-3-8b", "meta-llama/Llama-3.1-8B-Instruct"}, {1, 2});
  ASSERT_EQ(shapes.size(), 8u);
  for (const GemmShapeEntry& s : shapes) EXPECT_EQ(s.models_text(), "meta-llama/Llama-3-8b,meta-llama/Llama-3.1-8B-Instruct");
  // DeepSeek-V3 lists (24576, 7168) and (32768, 512) twice at TP 1 (never_split and n_split), and at
  // TP 8 its never-split shapes meet the split ones of TP 1 only once each.
  const auto ds = expand_shapes({"deepseek-ai/DeepSeek-V3"}, {1, 8});
  std::set<std::pair<std::int64_t, std::int64_t>> unique;
  for (const GemmShapeEntry& s : ds) EXPECT_TRUE(unique.insert({s.n, s.k}).second) << s.n << "x" << s.k;
  const auto it = std::find_if(ds.begin(), ds.end(), [](const GemmShapeEntry& s) { return s.n == 576 && s.k == 7168; });
  ASSERT_NE(it, ds.end());
  EXPECT_EQ(it->tps_text(), "1,8");  // never split: the same shape at both TP sizes
}

TEST(BenchGemmPlan, GivenShapesReplaceTheModels) {
  GemmSuiteOptions o;
  o.shapes = {parse_shape_arg("7168,256"), parse_shape_arg("576,7168")};
  const GemmPlan plan = make_plan(o);
  ASSERT_EQ(plan.shapes.size(), 2u);
  EXPECT_EQ(std::make_pair(plan.shapes[0].n, plan.shapes[0].k), std::make_pair(std::int64_t{7168}, std::int64_t{256}));
  EXPECT_EQ(std::make_pair(plan.shapes[1].n, plan.shapes[1].k), std::make_pair(std::int64_t{576}, std::int64_t{7168}));
  EXPECT_EQ(plan.shapes[0].models_text(), "--shapes");
  o.shapes.push_back(parse_shape_arg("7168,256"));
  const std::string what = error_of([&] { make_plan(o); });
  EXPECT_NE(what.find("--shapes"), std::string::npos) << what;
  for (const char* bad : {"7168", "7168,", ",256", "0,256", "7168,-128", "7168,256,1", "a,b"}) {
    const std::string why = error_of([&] { parse_shape_arg(bad); });
    EXPECT_NE(why.find("--shapes"), std::string::npos) << bad << ": " << why;
  }
}

TEST(BenchGemmPlan, UnknownModelIsNamed) {
  GemmSuiteOptions o;
  o.models = {"meta-llama/Llama-3.1-8B-Instruct", "no-org/no-model"};
  const std::string what = error_of([&] { make_plan(o); });
  EXPECT_NE(what.find("--models"), std::string::npos) << what;
  EXPECT_NE(what.find("no-org/no-model"), std::string::npos) << what;
}

TEST(BenchGemmPlan, BadOptionsNameTheFlag) {
  const std::vector<std::pair<std::function<void(GemmSuiteOptions&)>, std::string>> cases = {
      {[](GemmSuiteOptions& o) { o.batch_sizes = {}; }, "--batch-sizes"},
      {[](GemmSuiteOptions& o) { o.batch_sizes = {0}; }, "--batch-sizes"},
      {[](GemmSuiteOptions& o) { o.batch_sizes = {16, 16}; }, "--batch-sizes"},
      {[](GemmSuiteOptions& o) { o.tp_sizes = {0}; }, "--tp-sizes"},
      {[](GemmSuiteOptions& o) { o.tp_sizes = {2, 2}; }, "--tp-sizes"},
      {[](GemmSuiteOptions& o) { o.models = {}; }, "--models"},
      {[](GemmSuiteOptions& o) { o.providers = {}; }, "--providers"},
      {[](GemmSuiteOptions& o) { o.providers = {parse_provider("bf16"), parse_provider("bf16")}; }, "--providers"},
      {[](GemmSuiteOptions& o) { o.backends = {GemmBackend::kAuto}; }, "--backends"},
      {[](GemmSuiteOptions& o) { o.backends = {GemmBackend::kReference, GemmBackend::kReference}; }, "--backends"},
  };
  for (const auto& [mutate, flag] : cases) {
    GemmSuiteOptions o;
    mutate(o);
    const std::string what = error_of([&] { validate_options(o); });
    EXPECT_NE(what.find(flag), std::string::npos) << what;
  }
}

TEST(BenchGemmPlan, ShapeSkipReasons) {
  const GemmRun block{parse_provider("fp8-block-w-group-a"), GemmBackend::kCublasLt, "b"};
  const GemmRun tensor{parse_provider("fp8-tensor-w-tensor-a"), GemmBackend::kCublasLt, "t"};
  const GemmRun bf16{parse_provider("bf16"), GemmBackend::kCublasLt, "bf16"};
  EXPECT_FALSE(shape_skip_reason(block, 576, 7168));  // ragged N is fine
  ASSERT_TRUE(shape_skip_reason(block, 2048, 2064));  // K % 128 != 0
  EXPECT_NE(shape_skip_reason(block, 2048, 2064)->find("128"), std::string::npos);
  EXPECT_FALSE(shape_skip_reason(tensor, 2048, 2064));
  EXPECT_FALSE(shape_skip_reason(bf16, 2048, 2064));
  EXPECT_TRUE(shape_skip_reason(tensor, 2048, 1400));  // K % 16 != 0
}

// --- tables, records, progress -------------------------------------------------------------------

GemmMeasurement measured(std::int64_t m, const GemmRun& run, double us, double err) {
  GemmMeasurement r;
  r.m = m;
  r.n = 4096;
  r.k = 4096;
  r.models = "meta-llama/Llama-3.1-8B-Instruct";
  r.tps = "1";
  r.run = run;
  r.us = Summary{us, us * 0.9, us * 1.1, us * 0.8, us * 1.2, 25};
  r.rel_error = err;
  r.error_rows = m;
  return r;
}

std::vector<GemmRun> two_runs() {
  return {{parse_provider("bf16"), GemmBackend::kCublasLt, "bf16"},
          {parse_provider("fp8-tensor-w-tensor-a"), GemmBackend::kCublasLt, "fp8-tensor-w-tensor-a"}};
}

std::vector<GemmMeasurement> sample_rows_for_tables() {
  const auto runs = two_runs();
  std::vector<GemmMeasurement> rows = {measured(16, runs[0], 10.0, 0.0021), measured(16, runs[1], 6.0, 0.0312),
                                       measured(4096, runs[0], 300.0, 0.0020), measured(4096, runs[1], 160.0, 0.0315)};
  rows[3].status = "FAILED: relative error 0.5 against the reference backend";
  return rows;
}

TEST(BenchGemmReport, TflopsTableGolden) {
  const auto runs = two_runs();
  auto rows = sample_rows_for_tables();
  rows.erase(rows.begin() + 2);  // bf16 at M = 4096 not measured: "-"
  const std::string golden =
      "   M              bf16  fp8-tensor-w-tensor-a\n"
      "---------------------------------------------\n"
      "  16  53.7 (48.8-59.7)       89.5 (81.3-99.4)\n"
      "4096                 -                 FAILED\n";
  EXPECT_EQ(tflops_table(rows, runs).render(), golden) << tflops_table(rows, runs).render();
}

// cuBLASLt's block-scaled baseline at M % 4 != 0 is timed at M padded to 4: marked in the table,
// its TFLOP/s those of the unpadded M, the padded M in the record.
TEST(BenchGemmReport, PaddedBaselineIsMarked) {
  const auto runs = two_runs();
  auto rows = sample_rows_for_tables();
  rows.resize(2);
  rows[1].m = 13;
  rows[1].padded_m = 16;
  rows[0].m = 13;
  const std::string table = tflops_table(rows, runs).render();
  EXPECT_NE(table.find("*72.7 ("), std::string::npos) << table;  // 2 x 13 x N x K over the padded run's time
  EXPECT_EQ(table.find("*43.6"), std::string::npos) << table;     // the bf16 run ran at M itself
  RunContext ctx;
  EXPECT_EQ(gemm_record(rows[1], 1, ctx).params.at("m_padded"), "16");
  EXPECT_EQ(gemm_record(rows[1], 1, ctx).params.at("m"), "13");
  EXPECT_FALSE(gemm_record(rows[0], 1, ctx).params.contains("m_padded"));
}

TEST(BenchGemmReport, ErrorTableGolden) {
  const auto runs = two_runs();
  auto rows = sample_rows_for_tables();
  rows[0].status = "unsupported: backend refused";
  const std::string golden =
      "   M      bf16  fp8-tensor-w-tensor-a\n"
      "-------------------------------------\n"
      "  16       n/a               3.12e-02\n"
      "4096  2.00e-03                 FAILED\n";
  EXPECT_EQ(error_table(rows, runs).render(), golden) << error_table(rows, runs).render();
}

TEST(BenchGemmReport, RecordsAndPlots) {
  const auto rows = sample_rows_for_tables();
  RunContext ctx;
  ctx.device = "test";
  std::vector<ResultRecord> recs;
  for (const GemmMeasurement& r : rows) recs.push_back(gemm_record(r, 42, ctx));
  const ResultRecord& ok = recs[1];
  EXPECT_EQ(ok.suite, "gemm");
  EXPECT_EQ(ok.name, "fp8-tensor-w-tensor-a");
  EXPECT_EQ(ok.status, "ok");
  for (const char* key : {"m", "n", "k", "models", "tp", "provider", "backend", "out_dtype", "fast_accum", "act_dist", "seed"}) {
    EXPECT_TRUE(ok.params.contains(key)) << key;
  }
  EXPECT_EQ(ok.params.at("backend"), "cublaslt");
  EXPECT_EQ(ok.params.at("out_dtype"), "bfloat16");
  EXPECT_EQ(ok.params.at("fast_accum"), "0");
  EXPECT_FALSE(ok.params.contains("b_is_weight"));  // only rows run with --b-is-weight say so
  GemmMeasurement weight_row = rows[1];
  weight_row.b_is_weight = true;
  EXPECT_EQ(gemm_record(weight_row, 42, ctx).params.at("b_is_weight"), "1");
  EXPECT_FALSE(ok.params.contains("hot_activations"));
  weight_row.hot_activations = true;
  EXPECT_EQ(gemm_record(weight_row, 42, ctx).params.at("hot_activations"), "1");
  EXPECT_DOUBLE_EQ(ok.metrics.at("tflops_median"), 2.0 * 16 * 4096 * 4096 / 6.0 / 1e6);
  EXPECT_LT(ok.metrics.at("tflops_p20"), ok.metrics.at("tflops_median"));
  EXPECT_GT(ok.metrics.at("tflops_p80"), ok.metrics.at("tflops_median"));
  EXPECT_DOUBLE_EQ(ok.metrics.at("rel_error"), 0.0312);
  EXPECT_EQ(ok.context, ctx);
  EXPECT_TRUE(recs[3].metrics.empty());  // FAILED: no speed, no error
  EXPECT_EQ(recs[3].status.rfind("FAILED", 0), 0u);
  // The plot of the shape: one line per label, the FAILED point left out.
  const auto plots = gemm_plots(recs);
  ASSERT_EQ(plots.size(), 1u);
  EXPECT_EQ(plots[0].first, "bench_fp8_res_n4096_k4096");
  ASSERT_EQ(plots[0].second.series.size(), 2u);
  EXPECT_EQ(plots[0].second.series[0].points.size(), 2u);  // bf16
  EXPECT_EQ(plots[0].second.series[1].points.size(), 1u);  // fp8: M = 4096 FAILED
}

TEST(BenchGemmReport, Progress) {
  EXPECT_EQ(progress_bar(3, 12, "N=6144 K=4096 M=64", 8), "[##......]  3/12  25%  N=6144 K=4096 M=64");
  EXPECT_EQ(progress_bar(12, 12, "done", 4), "[####] 12/12 100%  done");
  EXPECT_EQ(plain_progress(4, 12, "N=1 K=2 M=3"), "[4/12] N=1 K=2 M=3");
}

}  // namespace
}  // namespace fp8kit::bench
