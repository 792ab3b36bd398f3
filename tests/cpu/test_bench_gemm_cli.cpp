// `fp8kit bench gemm` from the command line without a GPU: its help, bad flags (exit code 2, naming
// the flag) and no GPU (exit code 3, writing nothing).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cli_runner.hpp"
#include "cuda/device.hpp"

namespace fp8kit::bench {
namespace {

using test::CliRun;
using test::run_cli;

TEST(BenchGemmCli, Help) {
  const CliRun r = run_cli("bench gemm --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* flag : {"--models", "--tp-sizes", "--batch-sizes", "--providers", "--backends", "--timing",
                           "--act-dist", "--fast-accum", "--b-is-weight", "--hot-activations", "--out", "--seed"}) {
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
  }
}

TEST(BenchGemmCli, BadFlagsExitTwoNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bench gemm --providers bf16,fp8-magic", "fp8-magic"},
      {"bench gemm --backends cublaslt,cutlass", "cutlass"},
      {"bench gemm --backends auto", "--backends"},
      {"bench gemm --models no-org/no-model", "no-org/no-model"},
      {"bench gemm --tp-sizes 0", "--tp-sizes"},
      {"bench gemm --tp-sizes 3", "--models"},  // Llama-3.1-8B's 32 heads do not split 3 ways
      {"bench gemm --batch-sizes 0", "--batch-sizes"},
      {"bench gemm --batch-sizes x", "--batch-sizes"},
      {"bench gemm --act-dist uniform", "--act-dist"},
      {"bench gemm --timing warm", "--timing"},
      {"bench gemm --hot-activations", "--hot-activations"},  // graph timing: nothing to keep hot
      {"bench gemm --seed -3", "--seed"},
      {"bench gemm --bogus", "--bogus"},
  };
  test::expect_usage_errors(cases);
}

TEST(BenchGemmCli, NoGpuExitsThreeBeforeWritingAnything) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present";
  test::expect_no_gpu_exit_before_writing("bench gemm --batch-sizes 16 --backends cublaslt,reference");
}

}  // namespace
}  // namespace fp8kit::bench
