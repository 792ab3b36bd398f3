// Split-K inside a cluster (Cfg::kSplitCluster; issue 13): the kSplitK CTAs of a tile form one
// cluster, CTA rank s taking K range s. Each publishes its fp32 partial tile ((acc · sa) · sb, what
// the workspace path stores as a slab) in its own shared memory, over its finished ring. After one
// cluster barrier, CTA s sums slice s of the tile over every CTA's partial through distributed
// shared memory, in split order (the workspace path's reduce, so the same bits), adds the bias and
// writes D. No workspace and no second kernel: the decode cost model, fitted to the workspace path,
// charges its partials' round trip through L2 and the reduce kernel about 1 us of a ~5 us GEMM.
#pragma once

#include <fp8kit/common/types.cuh>
#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/sm90_gemm_epilogue.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/ptx/address.cuh>
#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/warpgroup.cuh>

namespace fp8kit::sm90_gemm {

template <class L, int kModeA, int kModeB, int kOut, int kSplitK, int kConsumers>
struct SplitClusterReduce {
  using Terms = EpilogueStore<L, kModeA, kModeB, kOut>;
  static constexpr int kSlices = L::kSlices, kAcc = L::kBN / 2, kPitch = L::kPartialPitch;
  static constexpr int kThreads = kConsumers * ptx::kWarpgroupThreads;
  static constexpr int kQuadsPerRow = L::kBN / 4;
  static_assert(kSplitK >= 2 && kSplitK <= 8, "a split cluster holds 2..8 CTAs (the portable cluster size)");

  const Sm90GemmParams& p;
  const Terms& terms;  // this consumer warpgroup's row and column factors
  float* partial;      // (kBM, kPitch) fp32, over the ring

  // This consumer warpgroup's rows of the partial tile, from its accumulator fragments. The caller
  // has made sure that no consumer's wgmma still reads the ring.
  __device__ __forceinline__ void publish(const float (&acc)[kSlices][kAcc], const TileCoord& t) const {
    if (!L::warp_holds_rows(ptx::warp_index_in_warpgroup())) return;  // a 16- or 32-row tile's spare warps
    float sa[kSlices][2];
    terms.row_factors(sa, t.m_tile * L::kBM + terms.wg * L::kRows);
    const int n0 = t.n_tile * L::kBN;
#pragma unroll
    for (int j = 0; j < kAcc / 4; ++j) {
      const auto c = terms.template column_terms<false>(n0 + j * 8 + terms.frag_col);
#pragma unroll
      for (int sl = 0; sl < kSlices; ++sl)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int r = terms.wg * L::kRows + sl * 64 + terms.frag_row + 8 * half;
          const float* v = &acc[sl][j * 4 + half * 2];
          *reinterpret_cast<float2*>(partial + r * kPitch + j * 8 + terms.frag_col) =
              make_float2(Terms::template output_value<false>(v[0], sa[sl][half], c, 0),
                          Terms::template output_value<false>(v[1], sa[sl][half], c, 1));
        }
    }
  }

  // After the cluster barrier: slice t.split (= this CTA's rank) of the tile's rows below M, four
  // columns a thread, every split's loads in flight before the first add.
  __device__ __forceinline__ void reduce(const TileCoord& t, int thread) const {
    const int m0 = t.m_tile * L::kBM, n0 = t.n_tile * L::kBN;
    const int quads = min(L::kBM, p.m - m0) * kQuadsPerRow;
    const int end = quads * (t.split + 1) / kSplitK;
    const u32 own = ptx::smem_u32(partial);
    u32 peer[kSplitK];
#pragma unroll
    for (int s = 0; s < kSplitK; ++s) peer[s] = ptx::map_shared_to_cta(own, static_cast<u32>(s));
    for (int q = quads * t.split / kSplitK + thread; q < end; q += kThreads) {
      const int row = q / kQuadsPerRow, c = q % kQuadsPerRow * 4;
      if (n0 + c >= p.n) continue;  // N % 16 == 0: a quad is wholly inside or outside
      const u32 at = static_cast<u32>((row * kPitch + c) * 4);
      float4 v[kSplitK];
#pragma unroll
      for (int s = 0; s < kSplitK; ++s) v[s] = ptx::ld_shared_cluster_v4(peer[s] + at);
      float4 sum = v[0];
#pragma unroll
      for (int s = 1; s < kSplitK; ++s) {  // in split order: the same bits on every run
        sum.x += v[s].x;
        sum.y += v[s].y;
        sum.z += v[s].z;
        sum.w += v[s].w;
      }
      finish_quad<kOut>(sum, p.bias, p.bias_dtype, n0 + c, p.out, static_cast<i64>(m0 + row) * p.ld_out + n0 + c);
    }
  }
};

}  // namespace fp8kit::sm90_gemm
