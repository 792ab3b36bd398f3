// The scale broadcast kernel's host side: cuBLASLt's OUTER_VEC mode takes one scale per row of A
// and per column of B, so a per-tensor scale paired with a per-token / per-channel one is first
// broadcast to a vector (kernels/fp8kit/gemm/scale_broadcast.cuh). Pure code generation plus the
// params mirror; the CPU suite compiles the source under NVRTC.
#pragma once

#include <cstdint>

#include "jit/kernel_source.hpp"

namespace fp8kit::blas {

constexpr int kBroadcastThreads = 256;

// Mirrors kernels/fp8kit/gemm/scale_broadcast.cuh's ScaleBroadcastParams.
struct ScaleBroadcastParams {
  const float* src;
  float* dst;
  std::int64_t n;
};

jit::KernelSource scale_broadcast_source();

}  // namespace fp8kit::blas
