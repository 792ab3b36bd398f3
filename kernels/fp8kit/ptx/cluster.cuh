// Thread-block clusters (PTX ISA "barrier.cluster", special registers %cluster_*, mapa): the two
// CTAs of a TMA-multicast pair find each other and synchronize here, and the split-K CTAs of a tile
// read each other's partials (distributed shared memory).
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

// The address of the same shared-memory byte in CTA `rank` of the cluster (a .shared::cluster
// address; `addr` is this CTA's .shared address).
__device__ __forceinline__ u32 map_shared_to_cta(u32 addr, u32 rank) {
  u32 out;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(addr), "r"(rank));
  return out;
}

// 16 bytes from any CTA's shared memory in the cluster (a map_shared_to_cta address). Ordered
// after the writer's barrier.cluster.arrive.release by this thread's barrier.cluster.wait.acquire.
__device__ __forceinline__ float4 ld_shared_cluster_v4(u32 addr) {
  float4 v;
  asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];"
               : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
               : "r"(addr)
               : "memory");
  return v;
}

}  // namespace fp8kit::ptx
