// The config that scaled_mm's fp8kit backend runs a call with: the tuned one for the device, shape
// and scale pair (core/tuned_configs.hpp), else the heuristic (default_gemm_config).
//
// Chosen once per call signature and remembered: choosing afresh cost 0.5-5.6 us of host time per
// call on the CPU machine (2026-12-04, docs/PERF.md session 19; the heuristic scores about twenty
// tiles at M > 32, a tuned lookup walks its file's batch sizes), as long as a decode GEMM runs on
// the GPU. A remembered choice is one hash lookup under a shared lock (21 ns there). set_tuned_config_dir and
// reset_tuned_config_dir start a new generation of the tuned lookup; choices of an older one are
// dropped.
#pragma once

#include <cstddef>

#include "core/gemm_config.hpp"
#include "cuda/device.hpp"
#include "fp8kit/gemm.hpp"

namespace fp8kit::ops {

// What find_tuned_config then default_gemm_config return for the call on `device` (its name picks
// the tuned files, its SM count feeds the heuristic), with fast_accum set as asked.
GemmConfig choose_gemm_config(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b, DType out,
                              bool fast_accum, const cuda::DeviceInfo& device);

// Choices remembered now (tests): at most kMaxRememberedGemmConfigs, then the memo starts over.
std::size_t remembered_gemm_configs();
inline constexpr std::size_t kMaxRememberedGemmConfigs = 1 << 14;

}  // namespace fp8kit::ops
