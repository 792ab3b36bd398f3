// Dynamic per-tensor quantization in two passes (the fewest possible: the scale depends on every
// element) and the cast with given scales (static per-tensor, per-token and per-group).
#pragma once

#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

// Grid-stride over the items = rows * ceil(cols / 8) chunks, kUnroll chunks in flight per thread.
// Item i is chunk i % chunks_per_row of row i / chunks_per_row.
template <class In, int kThreads, int kUnroll, bool kVector, class Fn>
__device__ __forceinline__ void for_each_chunk(const QuantParams& p, Fn&& fn) {
  const u32 per_row = static_cast<u32>((p.cols + kChunk - 1) / kChunk);
  const u32 step = gridDim.x * static_cast<u32>(kThreads * kUnroll);
  for (u32 base = blockIdx.x * static_cast<u32>(kThreads * kUnroll) + threadIdx.x; base < p.items; base += step) {
    Chunk<In> c[kUnroll];  // (kUnroll) chunks
    int row[kUnroll], ci[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const u32 i = base + static_cast<u32>(u * kThreads);
      row[u] = static_cast<int>(i / per_row);
      ci[u] = static_cast<int>(i - static_cast<u32>(row[u]) * per_row);
      if (i < p.items) load_chunk<In, kVector>(input_row<In>(p, row[u]), ci[u], p.cols, c[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + static_cast<u32>(u * kThreads) < p.items) fn(c[u], row[u], ci[u]);
    }
  }
}

// Pass 1 of dynamic per-tensor. scales[0] must be 0 before the launch. Each block turns its own
// amax into a scale and atomicMax'es the bits: scales are >= 0 (their bits order as unsigned) and
// dynamic_scale is monotonic, so the max of the blocks' scales is the scale of the global amax.
template <class In, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void tensor_amax(const QuantParams& p) {
  __shared__ float red[kThreads / 32];
  float amax = 0.0f;
  for_each_chunk<In, kThreads, kUnroll, kVector>(p, [&](const Chunk<In>& c, int, int) { amax = chunk_amax(c, amax); });
  amax = block_max<kThreads>(amax, red);
  if (threadIdx.x == 0) {
    const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
    atomicMax(reinterpret_cast<unsigned int*>(p.scales), __float_as_uint(s));
  }
}

// kTensorDynamic: scales[0] came from tensor_amax (>= 2^-18 or +Inf), so the fast exact division
// of quant_common.cuh applies; given scales may be anything and take the plain division.
enum class CastScale : int { kTensor = 0, kRow = 1, kGroup = 2, kTensorDynamic = 3 };

// q = e4m3(x / s) with s read from the scale buffer: scales[0] (kTensor), scales[row * s_rs]
// (kRow) or scales[row * s_rs + (col / kGroup) * s_cs] (kGroup; a chunk never straddles groups).
template <class In, CastScale kScale, int kGroup, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void scaled_cast(const QuantParams& p) {
  static_assert(kScale != CastScale::kGroup || kGroup % kChunk == 0, "a chunk lies in one group");
  float tensor_scale = 0.0f;
  if constexpr (kScale == CastScale::kTensor || kScale == CastScale::kTensorDynamic) tensor_scale = p.scales[0];
  const Divisor tensor_divisor = make_divisor(tensor_scale);
  for_each_chunk<In, kThreads, kUnroll, kVector>(p, [&](const Chunk<In>& c, int row, int ci) {
    float s = tensor_scale;
    if constexpr (kScale == CastScale::kRow) s = p.scales[static_cast<i64>(row) * p.s_rs];
    if constexpr (kScale == CastScale::kGroup) {
      s = p.scales[static_cast<i64>(row) * p.s_rs + static_cast<i64>(ci / (kGroup / kChunk)) * p.s_cs];
    }
    if constexpr (kScale == CastScale::kTensorDynamic) {
      quantize_store_chunk<In, kVector>(c, tensor_divisor, output_row(p, row), ci, p.cols);
    } else {
      quantize_store_chunk<In, kVector, true>(c, Divisor{s, 0.0f, 0.0f}, output_row(p, row), ci, p.cols);
    }
  });
}

}  // namespace fp8kit
