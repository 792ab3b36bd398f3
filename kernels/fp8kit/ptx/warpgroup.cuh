// Warpgroups (4 consecutive warps starting at a warp index divisible by 4): the unit that issues
// wgmma and that setmaxnreg re-budgets; plus the named barriers that sync a subset of warps.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit::ptx {

constexpr int kWarpgroupThreads = 128;

// Warp-uniform (broadcast from lane 0) so the compiler knows every role branch is uniform.
__device__ __forceinline__ int warpgroup_index() {
  return __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / kWarpgroupThreads, 0);
}
__device__ __forceinline__ int warp_index_in_warpgroup() {
  return __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / 32 % 4, 0);
}
__device__ __forceinline__ int thread_index_in_warpgroup() {
  return static_cast<int>(threadIdx.x) % kWarpgroupThreads;
}

// setmaxnreg (sm_90a): every thread of the warpgroup runs it, as the first statement of its role's
// branch. It works only when the kernel has a register cap at entry (__launch_bounds__(threads, 1));
// otherwise ptxas ignores it and warns (C7508). The values: multiples of 8 in [24, 256].
template <int kRegisters>
__device__ __forceinline__ void setmaxnreg_inc() {
  static_assert(kRegisters % 8 == 0 && kRegisters >= 24 && kRegisters <= 256, "setmaxnreg: 24..256, step 8");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(kRegisters));
}
template <int kRegisters>
__device__ __forceinline__ void setmaxnreg_dec() {
  static_assert(kRegisters % 8 == 0 && kRegisters >= 24 && kRegisters <= 256, "setmaxnreg: 24..256, step 8");
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(kRegisters));
}

// True in exactly one active lane of the warp (elect.sync): the lane that issues TMA.
__device__ __forceinline__ bool elect_one_sync() {
  u32 elected;
  asm volatile(
      "{\n"
      ".reg .b32 lane;\n"
      ".reg .pred p;\n"
      "elect.sync lane|p, %1;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}"
      : "=r"(elected)
      : "r"(0xffffffffu));
  return elected != 0;
}

// Barrier `id` (1..15; 0 is __syncthreads) among `threads` threads, a multiple of 32: syncs the
// consumer warpgroups without stalling the producer.
__device__ __forceinline__ void named_barrier_sync(u32 id, u32 threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

}  // namespace fp8kit::ptx
