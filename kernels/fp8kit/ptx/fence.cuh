// Proxy fences (PTX ISA "membar / fence"): ordinary loads and stores go through the generic
// proxy, TMA and wgmma through the async proxy; the two are ordered only by these fences.
#pragma once

namespace fp8kit::ptx {

// Each thread that wrote shared memory with ordinary stores (st.shared, stmatrix) runs this before
// the barrier after which TMA stores it or wgmma reads it.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// The same for global memory written by ordinary stores and read next by the copy engine.
__device__ __forceinline__ void fence_proxy_async_global() {
  asm volatile("fence.proxy.async.global;" ::: "memory");
}

}  // namespace fp8kit::ptx
