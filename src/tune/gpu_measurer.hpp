// The worker's CandidateMeasurer on a real GPU: compile (JIT cache, in parallel, spills refused),
// run once on NaN-poisoned output and verify against the reference backend of scaled_mm on the same
// inputs, then the CUDA-graph median (bench/timing). Needs the own GEMM backend (src/ops/fp8kit_gemm).
#pragma once

#include <memory>

#include "tune/worker_loop.hpp"

namespace fp8kit::tune {

// Timing: CUDA-graph replays of 2 ms, 10 after 2 warm-up replays (a burst: the clocks stay up), or
// with `bench_timing` as `bench gemm` times (25 of 10 ms after 3): sustained, where a power-bound
// kernel runs slower (13% at M = 4096 on an H200, PERF.md session 23).
std::unique_ptr<CandidateMeasurer> make_gpu_measurer(bool bench_timing = false);

}  // namespace fp8kit::tune
