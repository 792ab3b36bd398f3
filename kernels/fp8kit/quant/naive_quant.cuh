// The unfused baseline that eager frameworks run (three launches, scalar accesses): an amax
// kernel writes each scale cell's amax into the scale buffer, a scale kernel turns it into the
// scale in place, and a cast kernel divides every element by its cell's scale. A cell covers
// cell_rows x cell_cols input elements starting at (cell row * cell_rows, cell col * cell_cols).
#pragma once

#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

template <class In>
__device__ __forceinline__ float load_element(const QuantParams& p, int row, int col) {
  const char* x = input_row<In>(p, row) + static_cast<i64>(col) * In::kBytes;
  if constexpr (In::kBytes == 4) {
    return to_float<In>(*reinterpret_cast<const u32*>(x));
  } else {
    return to_float<In>(*reinterpret_cast<const u16*>(x));
  }
}

// kThreads threads per cell (a warp, or a whole block for 128 x 128 cells); items = cells. With
// atomic_amax (per-tensor) the cells are the input's rows and their amax meet in scales[0], which
// must be 0 before the launch.
template <class In, int kThreads, int kCellThreads>
__device__ __forceinline__ void naive_amax(const QuantParams& p) {
  static_assert(kCellThreads == 32 || kCellThreads == kThreads, "a warp or a block per cell");
  __shared__ float red[kThreads / 32];
  const u32 cell = blockIdx.x * static_cast<u32>(kThreads / kCellThreads) + threadIdx.x / kCellThreads;
  const int t = threadIdx.x % kCellThreads;
  const bool valid = cell < p.items;
  const int cr = valid ? static_cast<int>(cell / static_cast<u32>(p.scale_cols)) : 0;
  const int cc = valid ? static_cast<int>(cell % static_cast<u32>(p.scale_cols)) : 0;
  const int r0 = cr * p.cell_rows, c0 = cc * p.cell_cols;
  const int h = valid ? min(p.cell_rows, p.rows - r0) : 0;
  const int w = min(p.cell_cols, p.cols - c0);
  float amax = 0.0f;
  for (int e = t; e < h * w; e += kCellThreads) amax = fmaxf(amax, fabsf(load_element<In>(p, r0 + e / w, c0 + e % w)));
  amax = kCellThreads == 32 ? lanes_max<32>(amax) : block_max<kThreads>(amax, red);
  if (valid && t == 0) {
    if (p.atomic_amax) {
      atomicMax(reinterpret_cast<unsigned int*>(p.scales), __float_as_uint(amax));
    } else {
      p.scales[static_cast<i64>(cr) * p.s_rs + static_cast<i64>(cc) * p.s_cs] = amax;
    }
  }
}

// One thread per entry of the padded scale index space (scale_rows_pad x scale_cols_pad):
// amax -> scale in place; padding entries become 0.
__device__ __forceinline__ void naive_scale(const QuantParams& p) {
  const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.items) return;
  const int r = static_cast<int>(i / static_cast<u32>(p.scale_cols_pad));
  const int c = static_cast<int>(i % static_cast<u32>(p.scale_cols_pad));
  float* s = p.scales + static_cast<i64>(r) * p.s_rs + static_cast<i64>(c) * p.s_cs;
  *s = (r < p.scale_rows && c < p.scale_cols) ? dynamic_scale(*s, p.scale_ub, p.ue8m0 != 0) : 0.0f;
}

// One thread per element.
template <class In>
__device__ __forceinline__ void naive_cast(const QuantParams& p) {
  const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.items) return;
  const int row = static_cast<int>(i / static_cast<u32>(p.cols));
  const int col = static_cast<int>(i % static_cast<u32>(p.cols));
  const float s = p.scales[static_cast<i64>(row / p.cell_rows) * p.s_rs + static_cast<i64>(col / p.cell_cols) * p.s_cs];
  output_row(p, row)[col] = e4m3_from_float(__fdiv_rn(load_element<In>(p, row, col), s));
}

}  // namespace fp8kit
