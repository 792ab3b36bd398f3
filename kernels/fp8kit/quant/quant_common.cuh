// Shared pieces of the quantization kernels (DESIGN.md §3): the launch parameters, 8-element
// input chunks (one 16-byte load of fp16/bf16, two of fp32), the dynamic scale and the reductions.
// Every value goes through the same fp32 operations as the CPU reference in src/core/ref_quant.cpp.
#pragma once

#include <fp8kit/common/fp8.cuh>
#include <fp8kit/common/types.cuh>

namespace fp8kit {

// One parameter block for every quantization kernel; mirrored by src/ops/quant_kernels.hpp.
struct QuantParams {
  const void* x;  // input (rows, cols), row stride x_ld elements
  u8* q;          // E4M3 output (rows, cols), row stride q_ld bytes
  float* scales;  // written (dynamic) or read (static)
  i64 x_ld;
  i64 q_ld;
  i64 s_rs;            // elements between scale rows
  i64 s_cs;            // elements between scale columns
  int rows;            // M
  int cols;            // K
  int scale_rows;      // logical scale rows (M, ceil(M/128), 1)
  int scale_cols;      // logical scale columns (K/G, ceil(K/128), 1)
  int scale_rows_pad;  // scale index space with padding: round_up(M, 4) for TMA-aligned col-major
  int scale_cols_pad;  // round_up(ceil(K/128), 4) for block scales
  int cell_rows;       // naive kernels: input rows covered by one scale (1, 128, or rows)
  int cell_cols;       // naive kernels: input columns covered by one scale (G, 128, cols)
  int ue8m0;           // round dynamic scales up to a power of two
  int atomic_amax;     // naive amax of a per-tensor scale: atomicMax into scales[0]
  float scale_ub;      // amax = fminf(amax, scale_ub); +Inf when there is no bound
  u32 items;           // work items of this launch (groups, chunks, cells, elements)
};

// Input element types: 8 elements make one chunk of kWords 32-bit words.
struct InF32 {
  static constexpr int kBytes = 4;
};
struct InF16 {
  static constexpr int kBytes = 2;
};
struct InBF16 {
  static constexpr int kBytes = 2;
};

constexpr int kChunk = 8;  // elements per chunk

template <class In>
struct Chunk {
  static constexpr int kWords = kChunk * In::kBytes / 4;
  u32 w[kWords];
};

// 1 / (448 * 512) in fp32, the floor of every dynamic scale (ref::kMinDynamicScale).
constexpr u32 kMinScaleBits = 0x36924925u;
constexpr float kE4M3Max = 448.0f;

template <class In>
__device__ __forceinline__ float to_float(u32 bits16_or_32);

template <>
__device__ __forceinline__ float to_float<InF32>(u32 bits) {
  return __uint_as_float(bits);
}
template <>
__device__ __forceinline__ float to_float<InBF16>(u32 bits) {
  return __uint_as_float(bits << 16);  // exact: bf16 is the top half of an fp32
}
template <>
__device__ __forceinline__ float to_float<InF16>(u32 bits) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(static_cast<u16>(bits)));  // exact, subnormals too
  return f;
}

// Element i (0..7) of a chunk as fp32.
template <class In>
__device__ __forceinline__ float elem(const Chunk<In>& c, int i) {
  if constexpr (In::kBytes == 4) {
    return to_float<In>(c.w[i]);
  } else {
    return to_float<In>((i & 1) ? (c.w[i >> 1] >> 16) : (c.w[i >> 1] & 0xFFFFu));
  }
}

// The loads are asm volatile so that they stay below wait_prior_grid_and_release_next (pdl.cuh).
__device__ __forceinline__ void ldg16(const void* p, u32* w) {
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(w[0]), "=r"(w[1]), "=r"(w[2]), "=r"(w[3])
      : "l"(p));
}

// A 16-byte load that reads zeros when `pred` is false. One asm statement, so the load stays a
// single predicated LDG that the compiler cannot put behind a branch: several of them issue back
// to back before the first use.
__device__ __forceinline__ void ldg16_if(const void* p, bool pred, u32* w) {
  asm volatile("{\n"
      "  .reg .pred q;\n"
      "  setp.ne.b32 q, %5, 0;\n"
      "  mov.b32 %0, 0;\n"
      "  mov.b32 %1, 0;\n"
      "  mov.b32 %2, 0;\n"
      "  mov.b32 %3, 0;\n"
      "  @q ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
      "}\n"
      : "=r"(w[0]), "=r"(w[1]), "=r"(w[2]), "=r"(w[3])
      : "l"(p), "r"(static_cast<int>(pred)));
}

// Whole-chunk access for the vector kernels whose host guarantees cols % 8 == 0 and 16-byte
// aligned input rows (8-byte aligned output rows): no ragged tail, so no scalar fallback code.
// Chunk `ci` of `row`, or zeros when `pred` is false.
template <class In>
__device__ __forceinline__ void load_whole_chunk_if(const char* row, int ci, bool pred, Chunk<In>& c) {
  const char* p = row + static_cast<i64>(ci) * (kChunk * In::kBytes);
#pragma unroll
  for (int v = 0; v < Chunk<In>::kWords / 4; ++v) ldg16_if(p + 16 * v, pred, c.w + 4 * v);
}

// Loads chunk `ci` (elements 8ci .. 8ci+7) of a row of `cols` elements. Elements past the row's
// end read as +0, which leaves an amax unchanged. kVector: the row start is 16-byte aligned.
template <class In, bool kVector>
__device__ __forceinline__ void load_chunk(const char* row, int ci, int cols, Chunk<In>& c) {
  const int col0 = ci * kChunk;
  const char* p = row + static_cast<i64>(col0) * In::kBytes;
  if (kVector && col0 + kChunk <= cols) {
#pragma unroll
    for (int v = 0; v < Chunk<In>::kWords / 4; ++v) ldg16(p + 16 * v, c.w + 4 * v);
    return;
  }
  if constexpr (In::kBytes == 4) {
#pragma unroll
    for (int i = 0; i < kChunk; ++i) c.w[i] = col0 + i < cols ? reinterpret_cast<const u32*>(p)[i] : 0u;
  } else {
#pragma unroll
    for (int i = 0; i < kChunk / 2; ++i) {
      const u16* h = reinterpret_cast<const u16*>(p);
      const u32 lo = col0 + 2 * i < cols ? h[2 * i] : 0u;
      const u32 hi = col0 + 2 * i + 1 < cols ? h[2 * i + 1] : 0u;
      c.w[i] = lo | (hi << 16);
    }
  }
}

// fmaxf ignores NaN (IEEE maxNum), as the reference's std::fmax does, so the max of |x| over a
// set, started at +0, is the same in any order: the reductions below are trees (3 dependent
// steps a chunk instead of 8), which shortens the latency that small calls wait for.
template <class In>
__device__ __forceinline__ float chunk_amax(const Chunk<In>& c, float amax) {
  float m[kChunk];
#pragma unroll
  for (int i = 0; i < kChunk; ++i) m[i] = fabsf(elem(c, i));
#pragma unroll
  for (int w = kChunk / 2; w > 0; w /= 2) {
#pragma unroll
    for (int i = 0; i < w; ++i) m[i] = fmaxf(m[i], m[i + w]);
  }
  return fmaxf(amax, m[0]);
}

// The amax of kVecs chunks (absent ones hold +0), a tree over the chunks too.
template <class In, int kVecs>
__device__ __forceinline__ float chunks_amax(const Chunk<In> (&c)[kVecs]) {
  float m[kVecs];
#pragma unroll
  for (int v = 0; v < kVecs; ++v) m[v] = chunk_amax(c[v], 0.0f);
#pragma unroll
  for (int w = 1; w < kVecs; w *= 2) {
#pragma unroll
    for (int v = 0; v + w < kVecs; v += 2 * w) m[v] = fmaxf(m[v], m[v + w]);
  }
  return m[0];
}

// s = max(min(amax, ub) / 448, 1 / (448 * 512)), with UE8M0 rounded up to a power of two by
// bumping the exponent when any mantissa bit is set (s is always normal or +Inf here).
__device__ __forceinline__ float dynamic_scale(float amax, float ub, bool ue8m0) {
  float s = __fdiv_rn(fminf(amax, ub), kE4M3Max);
  const float floor = __uint_as_float(kMinScaleBits);
  if (!(s >= floor)) s = floor;
  if (ue8m0) {
    u32 b = __float_as_uint(s);
    if ((b & 0x7F800000u) != 0x7F800000u && (b & 0x007FFFFFu) != 0u) b = (b & 0xFF800000u) + 0x00800000u;
    s = __uint_as_float(b);
  }
  return s;
}

// x / s for one dynamic s shared by a group, bit for bit what e4m3(__fdiv_rn(x, s)) gives. With
// r = RN(1/s) computed once, q0 = RN(x * r) is within an ulp of x / s, the residual q0 * s - x is
// exact in an fma, and q0 - rem * r rounded once is the correctly rounded quotient (Markstein):
// three instructions instead of a reciprocal, its refinement and a range check per element.
// Written as q0 + (-rem) * r, a zero x keeps its sign: -0 gives q0 = -0, rem = +0, q = -0 + -0.
// Outside the range where that holds, q0 itself encodes the same E4M3 byte:
//   |q0| >= 2^100 (a scale_ub far below amax): both saturate to +-448 (NaN stays NaN);
//   s = +Inf (thr = 0): q0 = x * 0 is the exact +-0, or NaN for an Inf or NaN x.
// A quotient that underflows, or comes from a subnormal x, is far below E4M3's smallest half-step
// (2^-10) and encodes as a zero of the right sign either way. Dynamic scales are >= 2^-18 or +Inf.
// (Checked on the CPU against x / s: every bf16 pattern and 1e9 random fp32 ones with |x| <= amax,
// s = amax / 448 for random amax, its UE8M0 rounding and the floor: the same E4M3 byte each time.)
struct Divisor {
  float s;
  float r;
  float thr;  // 2^100, or 0 when s is Inf
};

__device__ __forceinline__ Divisor make_divisor(float s) {
  Divisor d;
  d.s = s;
  d.r = __frcp_rn(s);
  d.thr = s == __uint_as_float(0x7F800000u) ? 0.0f : __uint_as_float(0x71800000u);  // 2^100
  return d;
}

// kChecked = false: the caller knows the group is regular (regular_group), so |x / s| <= 448 and
// q0 is far inside the range: the select (two instructions an element) is dropped.
template <bool kChecked = true>
__device__ __forceinline__ float divide(float x, const Divisor& d) {
  const float q0 = __fmul_rn(x, d.r);
  const float rem = __fmaf_rn(q0, d.s, -x);
  const float q = __fmaf_rn(-rem, d.r, q0);
  if constexpr (!kChecked) return q;
  return fabsf(q0) < d.thr ? q : q0;
}

// A group whose amax (NaN ignored) is finite and not clipped by scale_ub: its dynamic scale is
// finite and every |x| <= amax, so x / s needs no range check.
__device__ __forceinline__ bool regular_group(float amax, float scale_ub) {
  return amax <= scale_ub && amax < __uint_as_float(0x7F800000u);
}

// q = e4m3(x / s), 8 codes packed little-endian. kExact: given (static) scales, which may be
// 0, negative or subnormal: the plain IEEE division.
template <bool kExact, class In, bool kChecked = true>
__device__ __forceinline__ void quantize_chunk(const Chunk<In>& c, const Divisor& d, u32& lo, u32& hi) {
  float q[kChunk];
#pragma unroll
  for (int i = 0; i < kChunk; ++i) q[i] = kExact ? __fdiv_rn(elem(c, i), d.s) : divide<kChecked>(elem(c, i), d);
  const u32 b0 = e4m3x2_from_float(q[0], q[1]);
  const u32 b1 = e4m3x2_from_float(q[2], q[3]);
  const u32 b2 = e4m3x2_from_float(q[4], q[5]);
  const u32 b3 = e4m3x2_from_float(q[6], q[7]);
  lo = b0 | (b1 << 16);
  hi = b2 | (b3 << 16);
}

// Stores the 8 codes of chunk `ci`; kVector: the row start is 8-byte aligned.
template <bool kVector>
__device__ __forceinline__ void store_chunk(u8* row, int ci, int cols, u32 lo, u32 hi) {
  const int col0 = ci * kChunk;
  u8* p = row + col0;
  if (kVector && col0 + kChunk <= cols) {
    asm volatile("st.global.v2.u32 [%0], {%1, %2};" ::"l"(p), "r"(lo), "r"(hi) : "memory");
    return;
  }
#pragma unroll
  for (int i = 0; i < kChunk; ++i) {
    if (col0 + i < cols) p[i] = static_cast<u8>(((i < 4 ? lo : hi) >> (8 * (i & 3))) & 0xFFu);
  }
}

template <class In, bool kVector, bool kExact = false, bool kChecked = true>
__device__ __forceinline__ void quantize_store_chunk(const Chunk<In>& c, const Divisor& d, u8* row, int ci, int cols) {
  u32 lo, hi;
  quantize_chunk<kExact, In, kChecked>(c, d, lo, hi);
  store_chunk<kVector>(row, ci, cols, lo, hi);
}

template <class In, bool kChecked = true>
__device__ __forceinline__ void quantize_store_whole_chunk(const Chunk<In>& c, const Divisor& d, u8* row, int ci) {
  u32 lo, hi;
  quantize_chunk<false, In, kChecked>(c, d, lo, hi);
  u8* p = row + static_cast<i64>(ci) * kChunk;
  asm volatile("st.global.v2.u32 [%0], {%1, %2};" ::"l"(p), "r"(lo), "r"(hi) : "memory");
}

// Chunks first + v * stride (v < kVecs) of a row, those below `chunks`, quantized and stored.
template <class In, bool kChecked, int kVecs>
__device__ __forceinline__ void quantize_store_strided(const Chunk<In> (&c)[kVecs], const Divisor& d, u8* q, int first,
                                                       int stride, int chunks) {
#pragma unroll
  for (int v = 0; v < kVecs; ++v) {
    if (first + v * stride < chunks) quantize_store_whole_chunk<In, kChecked>(c[v], d, q, first + v * stride);
  }
}

// Max over the warp of values that are >= +0 and not NaN (amaxes): such floats order as their bit
// patterns, so one redux.sync on the integers replaces five shuffle-and-max steps.
__device__ __forceinline__ float warp_max_nonneg(float v) {
  unsigned m;
  asm volatile("redux.sync.max.u32 %0, %1, 0xffffffff;" : "=r"(m) : "r"(__float_as_uint(v)));
  return __uint_as_float(m);
}

// Max over aligned groups of kLanes lanes (a power of two dividing 32); all 32 lanes must call it.
template <int kLanes>
__device__ __forceinline__ float lanes_max(float v) {
#pragma unroll
  for (int o = kLanes / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
  return v;
}

// Reduce-scatter of kRun values over aligned groups of kLanes lanes: lane j (of the group) ends
// with the max over the group of v[j % kRun]. Each halving step swaps half the values with the
// partner lane, so kRun = 4, kLanes = 16 takes 5 shuffles instead of 16 for kRun separate maxima.
template <int kLanes, int kRun>
__device__ __forceinline__ float lanes_max_scatter(float (&v)[kRun]) {
  static_assert(kRun >= 1 && kRun <= kLanes && (kRun & (kRun - 1)) == 0 && kLanes <= 32, "powers of two");
  const u32 lane = threadIdx.x % 32;
#pragma unroll
  for (int half = kRun / 2; half >= 1; half /= 2) {
    const bool upper = (lane & static_cast<u32>(half)) != 0;  // keeps v[half .. 2 half)
#pragma unroll
    for (int i = 0; i < half; ++i) {
      const float send = upper ? v[i] : v[i + half];
      const float keep = upper ? v[i + half] : v[i];
      v[i] = fmaxf(keep, __shfl_xor_sync(0xFFFFFFFFu, send, half));
    }
  }
  float m = v[0];
#pragma unroll
  for (int o = kRun; o < kLanes; o *= 2) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, o));
  return m;
}

// Max over the block; every thread gets the result. `red` holds kThreads / 32 floats.
template <int kThreads>
__device__ __forceinline__ float block_max(float v, float* red) {
  v = lanes_max<32>(v);
  if constexpr (kThreads == 32) {
    return v;
  } else {
    if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
    __syncthreads();
    float m = red[0];
#pragma unroll
    for (int w = 1; w < kThreads / 32; ++w) m = fmaxf(m, red[w]);
    return m;
  }
}

template <class In>
__device__ __forceinline__ const char* input_row(const QuantParams& p, int row) {
  return static_cast<const char*>(p.x) + static_cast<i64>(row) * p.x_ld * In::kBytes;
}
__device__ __forceinline__ u8* output_row(const QuantParams& p, int row) { return p.q + static_cast<i64>(row) * p.q_ld; }

}  // namespace fp8kit
