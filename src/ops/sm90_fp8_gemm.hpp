// The sm90_fp8_gemm runtime, backend `fp8kit` of scaled_mm: the own Hopper FP8 GEMM
// (kernels/fp8kit/gemm/sm90_fp8_gemm.cuh), one JIT-compiled kernel per GemmConfig; config choice,
// source generation, TMA descriptors and launch live here. Code generation works without a GPU
// (CPU tests compile it under NVRTC); running needs an sm_90 device.
#pragma once

#include <cuda_runtime_api.h>

#include <optional>
#include <vector>

#include "core/gemm_config.hpp"
#include "fp8kit/gemm.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::ops {

// The GEMM's entry point in every cubin: its own name, not the quantization kernels'
// `fp8kit_entry`, so that `ncu --kernel-name fp8kit_sm90_gemm` profiles the GEMM alone.
inline constexpr const char* kSm90GemmEntry = "fp8kit_sm90_gemm";

// The generated translation unit of one config; its name is kernel_name(config).
jit::KernelSource sm90_fp8_gemm_source(const GemmConfig& config);

// The config used when no tuned one exists (a shape heuristic over tile counts and SM count).
GemmConfig default_gemm_config(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b, DType out, int sm_count);

// Scale pairs the kernel family implements.
bool sm90_fp8_gemm_supports(ScaleModeA mode_a, ScaleModeB mode_b);

// How a call launches, beside its config.
struct Sm90GemmLaunch {
  bool prefetch_b = false;  // B is a weight the previous kernel on `stream` does not write (ScaledMmOptions::b_is_weight)
  // At most this many CTAs (clusters) walk the tiles; 0: one per SM. Fewer make each CTA walk
  // several tiles, carrying its ring position from one to the next (the exact tier's second run).
  // A split cluster launches every unit regardless.
  int max_clusters = 0;
};

// D = A · Bᵀ with `config` (arguments already checked by scaled_mm's check_scaled_mm_args; the
// config is validated against the shape here and refused with fp8kit::Error otherwise).
void fp8kit_scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
                      ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
                      const std::optional<TensorView>& bias, cudaStream_t stream, const GemmConfig& config,
                      const Sm90GemmLaunch& launch = {});

}  // namespace fp8kit::ops
