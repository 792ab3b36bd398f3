// Dynamic per-tensor quantization in two passes (the fewest possible: the scale depends on every
// element) and the cast with given scales (static per-tensor, per-token and per-group).
#pragma once

#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/quant/quant_common.cuh>

namespace fp8kit {

// Grid-stride over the items = rows * ceil(cols / 8) chunks, kUnroll chunks in flight per thread.
// Item i is chunk i % chunks_per_row of row i / chunks_per_row; kReverse walks items - 1 - i, so
// that a pass after a forward one starts on what the forward pass left in L2.
template <class In, int kThreads, int kUnroll, bool kVector, class Fn, bool kReverse = false>
__device__ __forceinline__ void for_each_chunk(const QuantParams& p, Fn&& fn) {
  const u32 per_row = static_cast<u32>((p.cols + kChunk - 1) / kChunk);
  const u32 step = gridDim.x * static_cast<u32>(kThreads * kUnroll);
  for (u32 base = blockIdx.x * static_cast<u32>(kThreads * kUnroll) + threadIdx.x; base < p.items; base += step) {
    Chunk<In> c[kUnroll];  // (kUnroll) chunks
    int row[kUnroll], ci[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const u32 fwd = base + static_cast<u32>(u * kThreads);
      const u32 i = kReverse ? p.items - 1u - fwd : fwd;
      row[u] = static_cast<int>(i / per_row);
      ci[u] = static_cast<int>(i - static_cast<u32>(row[u]) * per_row);
      if (fwd < p.items) load_chunk<In, kVector>(input_row<In>(p, row[u]), ci[u], p.cols, c[u]);
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
// of quant_common.cuh applies; given scales may be anything and take the plain division. It walks
// x backwards: tensor_amax walked it forwards, so the cast starts on what is still in L2.
enum class CastScale : int { kTensor = 0, kRow = 1, kGroup = 2, kTensorDynamic = 3 };

// q = e4m3(x / s) with s read from the scale buffer: scales[0] (kTensor), scales[row * s_rs]
// (kRow) or scales[row * s_rs + (col / kGroup) * s_cs] (kGroup; a chunk never straddles groups).
template <class In, CastScale kScale, int kGroup, int kThreads, int kUnroll, bool kVector>
__device__ __forceinline__ void scaled_cast(const QuantParams& p) {
  static_assert(kScale != CastScale::kGroup || kGroup % kChunk == 0, "a chunk lies in one group");
  float tensor_scale = 0.0f;
  constexpr bool kDynamic = kScale == CastScale::kTensorDynamic;
  if constexpr (kScale == CastScale::kTensor || kDynamic) tensor_scale = p.scales[0];
  const Divisor tensor_divisor = make_divisor(tensor_scale);
  constexpr bool kReverse = kDynamic;
  if constexpr (kDynamic) {
    // Without scale_ub, a finite dynamic scale came from a finite amax: the tensor is regular
    // (regular_group). With one, the cast cannot tell whether the amax was clipped.
    const float inf = __uint_as_float(0x7F800000u);
    const bool regular = p.scale_ub == inf && tensor_scale < inf;
    auto regular_cast = [&](const Chunk<In>& c, int row, int ci) {
      quantize_store_chunk<In, kVector, false, false>(c, tensor_divisor, output_row(p, row), ci, p.cols);
    };
    auto checked_cast = [&](const Chunk<In>& c, int row, int ci) {
      quantize_store_chunk<In, kVector>(c, tensor_divisor, output_row(p, row), ci, p.cols);
    };
    if (regular) for_each_chunk<In, kThreads, kUnroll, kVector, decltype(regular_cast)&, kReverse>(p, regular_cast);
    else for_each_chunk<In, kThreads, kUnroll, kVector, decltype(checked_cast)&, kReverse>(p, checked_cast);
  } else {
    auto cast = [&](const Chunk<In>& c, int row, int ci) {
      float s = tensor_scale;
      if constexpr (kScale == CastScale::kRow) s = p.scales[static_cast<i64>(row) * p.s_rs];
      if constexpr (kScale == CastScale::kGroup) {
        s = p.scales[static_cast<i64>(row) * p.s_rs + static_cast<i64>(ci / (kGroup / kChunk)) * p.s_cs];
      }
      quantize_store_chunk<In, kVector, true>(c, Divisor{s, 0.0f, 0.0f}, output_row(p, row), ci, p.cols);
    };
    for_each_chunk<In, kThreads, kUnroll, kVector, decltype(cast)&, kReverse>(p, cast);
  }
}

// Max over the cluster of one value per CTA: `mine` from thread 0 of each CTA; every thread gets
// the result. Reads the peers' shared memory (mapa + ld.shared::cluster); the caller must keep
// its CTA alive until every peer has read (cluster_arrive now, cluster_wait before exit).
template <int kCluster>
__device__ __forceinline__ float cluster_max(float mine, float* slot) {
  if (threadIdx.x == 0) *slot = mine;
  ptx::cluster_sync();  // release the slot, acquire the peers'
  const u32 local = static_cast<u32>(__cvta_generic_to_shared(slot));
  float m = 0.0f;
#pragma unroll
  for (int r = 0; r < kCluster; ++r) {
    u32 remote;
    float v;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(local), "r"(r));
    asm volatile("ld.shared::cluster.f32 %0, [%1];" : "=f"(v) : "r"(remote) : "memory");
    m = fmaxf(m, v);
  }
  return m;
}

// Dynamic per-tensor in one launch for small tensors (no zeroing of scales[0], no second pass):
// one cluster of kCluster CTAs (the grid) holds x in registers, kVecs whole chunks a thread
// (item v * total + global thread id), reduces the amax over the block and then the cluster, and
// casts. Each CTA computes the same scale from the same amax; CTA 0 writes it.
template <class In, int kCluster, int kVecs, int kMaxThreads>
__device__ __forceinline__ void tensor_quant_one_launch(const QuantParams& p) {
  static_assert(kMaxThreads % 32 == 0 && kVecs >= 1, "whole warps");
  __shared__ float red[kMaxThreads / 32];
  __shared__ float cta_amax;
  const u32 per_row = static_cast<u32>(p.cols / kChunk);
  const u32 total = gridDim.x * blockDim.x;
  const u32 gt = blockIdx.x * blockDim.x + threadIdx.x;
  Chunk<In> c[kVecs];
  int row[kVecs], ci[kVecs];
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    const u32 i = static_cast<u32>(v) * total + gt;
    row[v] = static_cast<int>(i / per_row);
    ci[v] = static_cast<int>(i - static_cast<u32>(row[v]) * per_row);
    const bool in = i < p.items;
    load_whole_chunk_if<In>(input_row<In>(p, in ? row[v] : 0), ci[v], in, c[v]);
  }
  float amax = warp_max_nonneg(chunks_amax(c));  // absent chunks are +0
  const int nt = static_cast<int>(blockDim.x);
  if (nt > 32) {
    if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = amax;
    __syncthreads();
    amax = red[0];
#pragma unroll
    for (int w = 1; w < kMaxThreads / 32; ++w) {
      if (w < nt / 32) amax = fmaxf(amax, red[w]);
    }
  }
  if constexpr (kCluster > 1) {
    amax = cluster_max<kCluster>(amax, &cta_amax);
    ptx::cluster_arrive();  // this CTA's slot has been read by itself; the peers' reads end before their wait
  }
  const float s = dynamic_scale(amax, p.scale_ub, p.ue8m0 != 0);
  const Divisor d = make_divisor(s);
  if (gt == 0) p.scales[0] = s;
  const bool regular = regular_group(amax, p.scale_ub);  // the grid agrees
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    if (static_cast<u32>(v) * total + gt >= p.items) continue;
    if (regular) quantize_store_whole_chunk<In, false>(c[v], d, output_row(p, row[v]), ci[v]);
    else quantize_store_whole_chunk<In, true>(c[v], d, output_row(p, row[v]), ci[v]);
  }
  if constexpr (kCluster > 1) ptx::cluster_wait();  // no CTA leaves while a peer may read its slot
}

}  // namespace fp8kit
