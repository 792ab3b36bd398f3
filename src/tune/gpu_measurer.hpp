// The worker's CandidateMeasurer on a real GPU: compile (JIT cache, in parallel, spills refused),
// run once on NaN-poisoned output and verify against the reference backend of scaled_mm on the same
// inputs, then the CUDA-graph median (bench/timing). Needs the own GEMM backend (src/ops/fp8kit_gemm).
#pragma once

#include <memory>

#include "tune/worker_loop.hpp"

namespace fp8kit::tune {

struct GpuMeasurerOptions {
  // Timing: CUDA-graph replays of 2 ms, 10 after 2 warm-up replays (a burst: the clocks stay up), or
  // as `bench gemm` times (25 of 10 ms after 3): sustained, where a power-bound kernel runs slower
  // (13% at M = 4096 on an H200, PERF.md session 23).
  bool bench_timing = false;
  // Candidates called as linear() calls them (ScaledMmOptions::b_is_weight): the weight streams
  // before the programmatic wait. It gains most where CTAs start early: in the bench, cold with the
  // activations in L2, 1.05-1.08x over the 15 DeepSeek-V3 shapes at M <= 64, nothing for split
  // clusters (H200, PERF.md session 36).
  bool b_is_weight = false;
};

std::unique_ptr<CandidateMeasurer> make_gpu_measurer(const GpuMeasurerOptions& options = {});

}  // namespace fp8kit::tune
