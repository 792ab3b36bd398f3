// mbarrier: the shared-memory barriers that TMA loads complete on and that the producer and the
// consumer warpgroups hand stages over with (PTX ISA "mbarrier"). One barrier is one u64 in
// shared memory, 8-byte aligned. Phases alternate 0, 1, 0, ...: a waiter passes once the phase
// with the parity it names has completed.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/ptx/address.cuh>

namespace fp8kit::ptx {

// `arrive_count` arrivals (plus the announced transaction bytes) complete a phase.
// Each takes the barrier's 32-bit shared address; the u64* overloads convert.
__device__ __forceinline__ void mbarrier_init(u32 bar, u32 arrive_count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(arrive_count) : "memory");
}
__device__ __forceinline__ void mbarrier_init(u64* bar, u32 arrive_count) { mbarrier_init(smem_u32(bar), arrive_count); }

// After the inits, before any other thread, the copy engine or a peer CTA uses the barriers
// (then a __syncthreads or a cluster barrier).
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive(u32 bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void mbarrier_arrive(u64* bar) { mbarrier_arrive(smem_u32(bar)); }

// Arrive on the barrier at the same shared offset in CTA `cta_rank` of the cluster: a consumer
// tells both CTAs of a multicast pair that it has freed a stage. Default (.release.cta) semantics,
// as CUTLASS's ClusterBarrier: what the arrival publishes is that the stage's wgmma reads are done
// (wgmma.wait_group), no memory writes. ".release.cluster" compiles to MEMBAR.ALL.GPU before every
// arrival (ptxas 13.0), which made every 2-CTA cluster config 1.4-4.5x slower on an H200.
__device__ __forceinline__ void mbarrier_arrive_cluster(u32 bar, u32 cta_rank) {
  asm volatile(
      "{\n"
      ".reg .b32 remote;\n"
      "mapa.shared::cluster.u32 remote, %0, %1;\n"
      "mbarrier.arrive.shared::cluster.b64 _, [remote];\n"
      "}" ::"r"(bar),
      "r"(cta_rank)
      : "memory");
}
__device__ __forceinline__ void mbarrier_arrive_cluster(u64* bar, u32 cta_rank) {
  mbarrier_arrive_cluster(smem_u32(bar), cta_rank);
}

// Arrive and announce `bytes` that asynchronous copies will complete on this phase; the producer
// does this once per stage with the stage's total TMA bytes.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(u32 bar, u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbarrier_arrive_expect_tx(u64* bar, u32 bytes) {
  mbarrier_arrive_expect_tx(smem_u32(bar), bytes);
}

// Announce bytes without arriving.
__device__ __forceinline__ void mbarrier_expect_tx(u64* bar, u32 bytes) {
  asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;" ::"r"(smem_u32(bar)), "r"(bytes)
               : "memory");
}

// True once the phase of parity `parity` has completed. try_wait suspends the thread for a
// hardware-chosen time before it answers false, so a loop around it does not spin hot.
__device__ __forceinline__ bool mbarrier_try_wait_parity(u32 bar, u32 parity) {
  u32 done;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}"
      : "=r"(done)
      : "r"(bar), "r"(parity)
      : "memory");
  return done != 0;
}

__device__ __forceinline__ void mbarrier_wait_parity(u32 bar, u32 parity) {
  while (!mbarrier_try_wait_parity(bar, parity)) {
  }
}
__device__ __forceinline__ void mbarrier_wait_parity(u64* bar, u32 parity) { mbarrier_wait_parity(smem_u32(bar), parity); }

}  // namespace fp8kit::ptx
