// `fp8kit bench quant`: the study of vLLM's benchmarks/kernels/bench_per_token_quant_fp8.py on
// fp8kit::quantize. Every (configuration, implementation) is verified bit for bit against the CPU
// reference (ref::quantize) on a fresh N(0, 1) input before it is timed; a failure is reported as
// FAILED, with the first mismatch, and never timed or counted in a speedup.
//
// With `check`, each one is also verified on an adversarial input (zero, tiny, outlier, midpoint
// and wide-range stretches; see InputKind) and once more after timing, on the output the timed
// graph replays left behind (a race or a stale-buffer bug shows there, not in a single call).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/quant_plan.hpp"
#include "bench/quant_report.hpp"
#include "bench/result_files.hpp"

namespace fp8kit::bench {

struct QuantSuiteResult {
  std::vector<QuantMeasurement> rows;
  std::vector<SpeedupGroup> speedups;  // fp8kit over naive, when both ran
  int failed = 0;
  std::uint64_t seed = 0;
  ResultFiles files;
};

// Needs a Hopper GPU (throws fp8kit::Error(kEnvironment) before any work otherwise). Prints one
// table per hidden size and the speedups to stdout; rewrites quant_results.{jsonl,csv} in
// options.out_dir after each hidden size. `command_line` goes into every record.
QuantSuiteResult run_quant_suite(const QuantSuiteOptions& options, const std::string& command_line);

}  // namespace fp8kit::bench
