// wgmma (sm_90a, PTX ISA "Asynchronous Warpgroup Level Matrix Multiply-Accumulate"): shared-memory
// matrix descriptors, the fence/commit/wait protocol and, from wgmma_e4m3.cuh, the dense
// m64nNk32.f32.e4m3.e4m3 instruction for N = 16..256 step 16. All 128 threads of a warpgroup
// execute every call here together (.sync.aligned).
//
// Protocol per batch of MMAs: wgmma_fence() (after the accumulators were last written by ordinary
// instructions, and before the first wgmma), the wgmma calls, wgmma_commit_group(), then
// wgmma_wait_group<n>() before the accumulators are read or written by anything else.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/ptx/address.cuh>
#include <fp8kit/ptx/wgmma_e4m3.cuh>

namespace fp8kit::ptx {

// --- matrix descriptor (64 bits) --------------------------------------------------------------
//   bits  0-13  start address >> 4         bits 32-45  stride byte offset (SBO) >> 4
//   bits 16-29  leading byte offset >> 4   bits 49-51  base offset (0: pattern starts 1024-aligned)
//   bits 62-63  swizzle: 0 none, 1 128B, 2 64B, 3 32B
enum class WgmmaSwizzle : u32 { kNone = 0, k128B = 1, k64B = 2, k32B = 3 };

__host__ __device__ constexpr u64 wgmma_desc_encode(u32 smem_addr, u32 leading_byte_offset, u32 stride_byte_offset,
                                                    WgmmaSwizzle swizzle) {
  return static_cast<u64>((smem_addr & 0x3FFFFu) >> 4) |
         (static_cast<u64>((leading_byte_offset & 0x3FFFFu) >> 4) << 16) |
         (static_cast<u64>((stride_byte_offset & 0x3FFFFu) >> 4) << 32) |
         (static_cast<u64>(static_cast<u32>(swizzle)) << 62);
}

// Bit positions pinned at compile time (a typo here would make every MMA read garbage).
static_assert(wgmma_desc_encode(0x400, 16, 1024, WgmmaSwizzle::k128B) ==
                  (0x40ull | (1ull << 16) | (64ull << 32) | (1ull << 62)),
              "wgmma descriptor bit layout");
static_assert(wgmma_desc_encode(0x3FFF0, 0, 0, WgmmaSwizzle::kNone) == 0x3FFFull, "start address is 14 bits of addr >> 4");

// A K-major tile of rows x 128 bytes (128 e4m3 along K per row), written by TMA with 128B swizzle
// at a 1024-byte-aligned address: 8-row groups of 1024 bytes follow each other (SBO = 1024); the
// leading offset is unused by swizzled K-major layouts (1 by convention). The same descriptor
// serves A (64 rows per wgmma) and B (N rows).
__device__ __forceinline__ u64 wgmma_desc_k_major_sw128(u32 tile) {
  return wgmma_desc_encode(tile, 16, 1024, WgmmaSwizzle::k128B);
}
__device__ __forceinline__ u64 wgmma_desc_k_major_sw128(const void* tile) { return wgmma_desc_k_major_sw128(smem_u32(tile)); }

// The descriptor of the same layout `bytes` further on (a multiple of 16: 32 per k32 step, or a
// whole stage / 64-row slice): the swizzle is applied by the hardware on the final address, so the
// start simply moves. The start is 14 bits of the low word and shared memory ends below 2^18 bytes,
// so the add never carries into the high word: one 32-bit add, which the consumers' issue path
// (between one wgmma batch finishing and the next starting) can afford.
__host__ __device__ constexpr u64 wgmma_desc_advance(u64 desc, u32 bytes) {
  return (desc & 0xFFFFFFFF00000000ull) | static_cast<u32>(static_cast<u32>(desc) + (bytes >> 4));
}
static_assert(wgmma_desc_advance(0x4000004000013FF0ull, 32) == 0x4000004000013FF2ull, "advance moves the start only");

// The same in a kernel, on the two 32-bit halves: from a start address known only at run time
// (smem_u32_base) ptxas otherwise adds in 64 bits and ORs the high word back in (m128n96 s6: 560
// instructions a lap of the ring, 500 this way).
__device__ __forceinline__ u64 wgmma_desc_add(u64 desc, u32 bytes) {
  u32 lo, hi;
  asm("mov.b64 {%0, %1}, %2;" : "=r"(lo), "=r"(hi) : "l"(desc));
  u64 moved;
  asm("mov.b64 %0, {%1, %2};" : "=l"(moved) : "r"(lo + (bytes >> 4)), "r"(hi));
  return moved;
}

// --- protocol ----------------------------------------------------------------------------------
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit_group() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }

// Waits until at most kPending committed groups are still running.
template <int kPending>
__device__ __forceinline__ void wgmma_wait_group() {
  static_assert(kPending >= 0 && kPending <= 7, "wgmma.wait_group takes 0..7");
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(kPending) : "memory");
}

// Keeps the compiler from moving ordinary reads and writes of accumulator registers across the
// asynchronous MMAs (use on the whole array around fence ... wait).
template <int kRegs>
__device__ __forceinline__ void wgmma_fence_operands(float (&d)[kRegs]) {
#pragma unroll
  for (int i = 0; i < kRegs; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// --- the MMA -----------------------------------------------------------------------------------
// d (64 x N fp32 over the warpgroup: N / 2 per thread) = A * B^T (+ d when accumulate): A is 64 rows
// x 32 e4m3 of K, B is N rows x 32 e4m3 of K, both K-major in shared memory behind descriptors.
template <int N>
__device__ __forceinline__ void wgmma_m64k32_e4m3(float (&d)[N / 2], u64 desc_a, u64 desc_b, bool accumulate) {
  static_assert(N % 16 == 0 && N >= 16 && N <= 256, "fp8kit instantiates wgmma N = 16..256 step 16");
  static_assert(WgmmaE4M3<N>::kAccumulators == N / 2, "64 x N fp32 over 128 threads");
  WgmmaE4M3<N>::mma(d, desc_a, desc_b, accumulate ? 1u : 0u);
}

}  // namespace fp8kit::ptx
