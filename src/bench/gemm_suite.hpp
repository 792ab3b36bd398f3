// `fp8kit bench gemm`: the study of vLLM's benchmarks/kernels/bench_fp8_gemm.py on fp8kit::mm,
// scaled_mm and linear, and more: every provider is verified before it is timed (gemm_verify.hpp
// says against what), and its accuracy is measured against a double-precision product of the
// unquantized bf16 inputs, so speed and accuracy land on one page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/gemm_plan.hpp"
#include "bench/gemm_report.hpp"
#include "bench/result_files.hpp"

namespace fp8kit::bench {

struct GemmSuiteResult {
  std::vector<GemmMeasurement> rows;
  int failed = 0;
  std::uint64_t seed = 0;
  ResultFiles files;
};

// Checks the options and the models (fp8kit::Error(kInvalidArgument)), then needs a Hopper GPU
// (kEnvironment, before any work). Per (N, K) prints the TFLOP/s and relative-error tables and
// rewrites gemm_results.{jsonl,csv} in options.out_dir, the shape's CSV and plot in
// out_dir/bench_fp8_res_n{N}_k{K}/ (PNG + SVG where gnuplot is installed, else .gp + .dat).
GemmSuiteResult run_gemm_suite(const GemmSuiteOptions& options, const std::string& command_line);

}  // namespace fp8kit::bench
