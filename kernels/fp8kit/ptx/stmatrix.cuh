// stmatrix: a warp stores four 8x8 tiles of 16-bit values from the register layout that mma and
// wgmma accumulators have (thread t holds row t / 4, columns 2 (t % 4) and + 1 of each tile), one
// 16-byte row per address: a quarter of the store instructions of one 32-bit st.shared per pair.
#pragma once

#include <fp8kit/ptx/address.cuh>

namespace fp8kit::ptx {

// Lanes 8i .. 8i + 7 give the addresses of rows 0..7 of tile i; register ri is this thread's pair
// of tile i (low half: the lower column).
__device__ __forceinline__ void stmatrix_x4(void* row_address, u32 r0, u32 r1, u32 r2, u32 r3) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(smem_u32(row_address)),
               "r"(r0), "r"(r1), "r"(r2), "r"(r3)
               : "memory");
}

}  // namespace fp8kit::ptx
