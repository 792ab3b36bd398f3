// 128 x 128 block quantization of a weight (N, K): one CTA per block, the tile in registers, one
// reduction, one write. Ragged last blocks take the amax of the elements that exist. Scales are
// row-major with leading dimension s_rs = round_up(ceil(K/128), 4); the CTA of the last block
// column writes the padding entries of its scale row as 0.
#pragma once

#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

template <class In, bool kVector>
__device__ __forceinline__ void quant_block128(const QuantParams& p) {
  constexpr int kThreads = 256;
  constexpr int kLanes = 128 / kChunk;             // 16 threads cover one 128-wide block row
  constexpr int kRowsPerStep = kThreads / kLanes;  // 16
  constexpr int kSteps = 128 / kRowsPerStep;       // 8
  __shared__ float red[kThreads / 32];
  const int bc = blockIdx.x, br = blockIdx.y;
  const int lane = threadIdx.x % kLanes, r0 = threadIdx.x / kLanes;
  const int ci = bc * kLanes + lane;  // chunk index within a row
  const bool col_ok = ci * kChunk < p.cols;
  Chunk<In> c[kSteps];  // (kSteps) chunks: rows br*128 + step*16 + r0
  float amax = 0.0f;
#pragma unroll
  for (int step = 0; step < kSteps; ++step) {
    const int row = br * 128 + step * kRowsPerStep + r0;
    if (col_ok && row < p.rows) {
      load_chunk<In, kVector>(input_row<In>(p, row), ci, p.cols, c[step]);
      amax = chunk_amax(c[step], amax);
    }
  }
  amax = block_max<kThreads>(amax, red);
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  float* srow = p.scales + static_cast<i64>(br) * p.s_rs;
  if (threadIdx.x == 0) srow[bc] = s;
  if (bc == p.scale_cols - 1 && threadIdx.x >= 1 && threadIdx.x < p.scale_cols_pad - p.scale_cols + 1) {
    srow[bc + static_cast<int>(threadIdx.x)] = 0.0f;
  }
#pragma unroll
  for (int step = 0; step < kSteps; ++step) {
    const int row = br * 128 + step * kRowsPerStep + r0;
    if (col_ok && row < p.rows) quantize_store_chunk<In, kVector>(c[step], d, output_row(p, row), ci, p.cols);
  }
}

// prepare_block_scales: one thread per entry of the padded (scale_rows, scale_cols_pad) output;
// reads scales_in (p.x) at strides (s_rs, s_cs), writes 0 into the padding columns.
__device__ __forceinline__ void copy_block_scales(const QuantParams& p) {
  const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.items) return;
  const int r = static_cast<int>(i / static_cast<u32>(p.scale_cols_pad));
  const int c = static_cast<int>(i % static_cast<u32>(p.scale_cols_pad));
  const float* in = static_cast<const float*>(p.x);
  p.scales[i] = c < p.scale_cols ? in[static_cast<i64>(r) * p.s_rs + static_cast<i64>(c) * p.s_cs] : 0.0f;
}

}  // namespace fp8kit
