// The worker's CandidateMeasurer on a real GPU: compile (JIT cache, in parallel, spills refused),
// run once on NaN-poisoned output and verify against the reference backend of scaled_mm on the same
// inputs, then the CUDA-graph median (bench/timing). Needs the own GEMM backend (src/ops/fp8kit_gemm).
#pragma once

#include <memory>

#include "tune/worker_loop.hpp"

namespace fp8kit::tune {

std::unique_ptr<CandidateMeasurer> make_gpu_measurer();

}  // namespace fp8kit::tune
