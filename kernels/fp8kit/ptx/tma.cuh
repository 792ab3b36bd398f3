// TMA, the bulk tensor copy engine (PTX ISA "cp.async.bulk.tensor"): 2-D tiles between global
// memory, described by a tensor map that the host encodes (src/cuda/tensor_map.hpp), and shared
// memory. Coordinates are in elements, innermost (contiguous) dimension first: {column, row}.
// Boxes that reach past the tensor's edge are filled with zeros on load and clipped on store;
// the transaction count of a load is always the full box.
#pragma once

#include <fp8kit/common/tensor_map.cuh>
#include <fp8kit/common/types.cuh>
#include <fp8kit/ptx/address.cuh>

namespace fp8kit {
namespace ptx {

__device__ __forceinline__ u64 tensor_map_address(const CUtensorMapOpaque* map) {
  return reinterpret_cast<u64>(map);
}

// Fetch the descriptor into the cache ahead of the first copy (one thread, at kernel start).
__device__ __forceinline__ void tma_prefetch_descriptor(const CUtensorMapOpaque* map) {
  asm volatile("prefetch.tensormap [%0];" ::"l"(tensor_map_address(map)) : "memory");
}

// Global -> shared: the box at (c0, c1) lands at `smem_dst` (1024-byte aligned with 128B swizzle,
// 128-byte aligned otherwise) and completes its bytes on `bar` (announced with expect_tx).
// (Destination and barrier as 32-bit shared addresses; the pointer overloads convert.)
__device__ __forceinline__ void tma_load_2d(u32 smem_dst, const CUtensorMapOpaque* map, u32 bar, i32 c0, i32 c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];" ::"r"(
          smem_dst),
      "l"(tensor_map_address(map)), "r"(bar), "r"(c0), "r"(c1)
      : "memory");
}
__device__ __forceinline__ void tma_load_2d(void* smem_dst, const CUtensorMapOpaque* map, u64* bar, i32 c0, i32 c1) {
  tma_load_2d(smem_u32(smem_dst), map, smem_u32(bar), c0, c1);
}

// The same box written to the same shared offset, and completed on the barrier at the same offset,
// in every CTA of the cluster whose bit is set in `cta_mask` (bit i = CTA rank i).
__device__ __forceinline__ void tma_load_2d_multicast(u32 smem_dst, const CUtensorMapOpaque* map, u32 bar, i32 c0,
                                                      i32 c1, u16 cta_mask) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
      " [%0], [%1, {%3, %4}], [%2], %5;" ::"r"(smem_dst),
      "l"(tensor_map_address(map)), "r"(bar), "r"(c0), "r"(c1), "h"(cta_mask)
      : "memory");
}
__device__ __forceinline__ void tma_load_2d_multicast(void* smem_dst, const CUtensorMapOpaque* map, u64* bar, i32 c0,
                                                      i32 c1, u16 cta_mask) {
  tma_load_2d_multicast(smem_u32(smem_dst), map, smem_u32(bar), c0, c1, cta_mask);
}

// Shared -> global: the box at `smem_src` is stored at (c0, c1). Run fence_proxy_async_shared()
// in every writing thread and a barrier before it; then commit, and wait before the shared
// buffer is reused (read) or the kernel exits.
__device__ __forceinline__ void tma_store_2d(const CUtensorMapOpaque* map, const void* smem_src, i32 c0, i32 c1) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];" ::"l"(
                   tensor_map_address(map)),
               "r"(smem_u32(smem_src)), "r"(c0), "r"(c1)
               : "memory");
}

// Closes the bulk stores issued so far by this thread into one group.
__device__ __forceinline__ void tma_store_commit_group() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }

// Waits until at most kPending groups still read their shared source (the buffer may be rewritten).
template <int kPending>
__device__ __forceinline__ void tma_store_wait_read() {
  static_assert(kPending >= 0 && kPending <= 63, "wait_group takes 0..63");
  asm volatile("cp.async.bulk.wait_group.read %0;" ::"n"(kPending) : "memory");
}

// Waits until at most kPending groups are incomplete (their writes to global memory done).
template <int kPending>
__device__ __forceinline__ void tma_store_wait_all() {
  static_assert(kPending >= 0 && kPending <= 63, "wait_group takes 0..63");
  asm volatile("cp.async.bulk.wait_group %0;" ::"n"(kPending) : "memory");
}

}  // namespace ptx
}  // namespace fp8kit
