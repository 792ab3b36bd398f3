// Thread-block clusters (PTX ISA "barrier.cluster", special registers %cluster_*): the two CTAs
// of a TMA-multicast pair find each other and synchronize here.
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit::ptx {

// Rank of this CTA in its cluster, 0 .. cluster size - 1.
__device__ __forceinline__ u32 cluster_cta_rank() {
  u32 rank;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
  return rank;
}

__device__ __forceinline__ u32 cluster_num_ctas() {
  u32 n;
  asm volatile("mov.u32 %0, %%cluster_nctarank;" : "=r"(n));
  return n;
}

// Every thread of every CTA of the cluster arrives (release) and then waits (acquire): after the
// barrier inits (so a peer may arrive on them) and before exit (so no CTA leaves while a peer may
// still multicast into its shared memory or arrive on its barriers).
__device__ __forceinline__ void cluster_arrive() {
  asm volatile("barrier.cluster.arrive.release.aligned;" ::: "memory");
}
__device__ __forceinline__ void cluster_wait() {
  asm volatile("barrier.cluster.wait.acquire.aligned;" ::: "memory");
}
__device__ __forceinline__ void cluster_sync() {
  cluster_arrive();
  cluster_wait();
}

}  // namespace fp8kit::ptx
