// Includes every kernel header so nvcc reports template and syntax errors in CI without a GPU
// (DESIGN.md §2). Keep this list complete: tests/cpu/test_jit_compile.cpp checks it.
#include <fp8kit/bench/copy.cuh>
#include <fp8kit/bench/read.cuh>
#include <fp8kit/bench/read_params.cuh>
#include <fp8kit/common/fp8.cuh>
#include <fp8kit/common/pdl.cuh>
#include <fp8kit/common/tensor_map.cuh>
#include <fp8kit/common/types.cuh>

// Instantiate the templates so their bodies are checked too.
extern "C" __global__ void fp8kit_check_copy(const __grid_constant__ fp8kit::CopyParams p) { fp8kit::copy_vectors<4, true>(p);
  fp8kit::copy_vectors<2, false>(p); }
extern "C" __global__ void fp8kit_check_read(const __grid_constant__ fp8kit::ReadParams p) { fp8kit::read_vectors<4>(p); }
extern "C" __global__ void fp8kit_check_fp8(const float* x, fp8kit::u8* q, float* back) {
  q[threadIdx.x] = fp8kit::e4m3_from_float(x[threadIdx.x]);
  back[threadIdx.x] = fp8kit::e4m3_to_float(q[threadIdx.x]) + static_cast<float>(fp8kit::e5m2_from_float(x[threadIdx.x]));
}
#include <fp8kit/gemm/out_dtypes.cuh>
#include <fp8kit/gemm/scale_broadcast.cuh>
#include <fp8kit/gemm/scale_modes.cuh>
#include <fp8kit/ref/scaled_gemm.cuh>
extern "C" __global__ void fp8kit_check_ref_gemm(const __grid_constant__ fp8kit::RefGemmParams p) {
  fp8kit::ref_scaled_gemm<fp8kit::kGemmScaleAGroup128, fp8kit::kGemmScaleBBlock128, fp8kit::kGemmOutBF16>(p);
  fp8kit::ref_scaled_gemm<fp8kit::kGemmScaleAToken, fp8kit::kGemmScaleBChannel, fp8kit::kGemmOutF16>(p);
  fp8kit::ref_scaled_gemm<fp8kit::kGemmScaleATensor, fp8kit::kGemmScaleBTensor, fp8kit::kGemmOutF32>(p);
}
#include <fp8kit/gemm/sm90_fp8_gemm.cuh>
#include <fp8kit/gemm/sm90_gemm_params.cuh>
#include <fp8kit/gemm/sm90_gemm_consumer.cuh>
#include <fp8kit/gemm/sm90_gemm_epilogue.cuh>
#include <fp8kit/gemm/sm90_gemm_layout.cuh>
#include <fp8kit/gemm/sm90_gemm_producer.cuh>
#include <fp8kit/gemm/sm90_gemm_promotion.cuh>
#include <fp8kit/gemm/sm90_gemm_split_cluster.cuh>
struct CheckGemmCfg {
  static constexpr int kBlockM = 128, kBlockN = 144, kBlockK = 128, kStages = 4, kConsumerWarpgroups = 2, kClusterM = 2;
  static constexpr int kClusterN = 1;
  static constexpr int kProducerRegisters = 40, kConsumerRegisters = 232;
  static constexpr bool kOverlapPromotion = false;
  static constexpr int kStorePasses = 1, kSplitK = 1;
  static constexpr bool kFastAccum = false, kSplitCluster = false;
};
struct CheckFastAccumCfg : CheckGemmCfg {  // the tensor cores accumulate all of K
  static constexpr bool kFastAccum = true;
};
struct CheckOverlapCfg {  // 64 fp32 = 256 bytes a row: 2 boxes, stored in 2 passes; A shared along N
  static constexpr int kBlockM = 256, kBlockN = 64, kBlockK = 128, kStages = 4, kConsumerWarpgroups = 2, kClusterM = 1;
  static constexpr int kClusterN = 2;
  static constexpr int kProducerRegisters = 40, kConsumerRegisters = 232;
  static constexpr bool kOverlapPromotion = true;
  static constexpr int kStorePasses = 2, kSplitK = 1;
  static constexpr bool kFastAccum = false, kSplitCluster = false;
};
struct CheckSplitClusterCfg {  // a decode tile whose 4 K ranges sum their partials in one cluster
  static constexpr int kBlockM = 16, kBlockN = 64, kBlockK = 128, kStages = 8, kConsumerWarpgroups = 1, kClusterM = 1;
  static constexpr int kClusterN = 1;
  static constexpr int kProducerRegisters = 40, kConsumerRegisters = 240;
  static constexpr bool kOverlapPromotion = true;
  static constexpr int kStorePasses = 1, kSplitK = 4;
  static constexpr bool kFastAccum = false, kSplitCluster = true;
};
extern "C" __global__ void __launch_bounds__(384, 1) fp8kit_check_sm90_gemm(const __grid_constant__ fp8kit::Sm90GemmParams p) {
  fp8kit::sm90_fp8_gemm<CheckGemmCfg, fp8kit::kGemmScaleAGroup128, fp8kit::kGemmScaleBBlock128, fp8kit::kGemmOutBF16>(p);
}
extern "C" __global__ void __launch_bounds__(384, 1) fp8kit_check_sm90_gemm_overlapped(const __grid_constant__ fp8kit::Sm90GemmParams p) {
  fp8kit::sm90_fp8_gemm<CheckOverlapCfg, fp8kit::kGemmScaleATensor, fp8kit::kGemmScaleBBlock128, fp8kit::kGemmOutF32>(p);
}
extern "C" __global__ void __launch_bounds__(384, 1) fp8kit_check_sm90_gemm_unpromoted(const __grid_constant__ fp8kit::Sm90GemmParams p) {
  fp8kit::sm90_fp8_gemm<CheckFastAccumCfg, fp8kit::kGemmScaleAToken, fp8kit::kGemmScaleBChannel, fp8kit::kGemmOutF32>(p);
}
extern "C" __global__ void __launch_bounds__(384, 1) fp8kit_check_sm90_gemm_exact_accum(const __grid_constant__ fp8kit::Sm90GemmParams p) {
  fp8kit::sm90_fp8_gemm<CheckGemmCfg, fp8kit::kGemmScaleAToken, fp8kit::kGemmScaleBChannel, fp8kit::kGemmOutF32>(p);
}
extern "C" __global__ void __launch_bounds__(256, 1) __cluster_dims__(4, 1, 1)
    fp8kit_check_sm90_gemm_split_cluster(const __grid_constant__ fp8kit::Sm90GemmParams p) {
  fp8kit::sm90_fp8_gemm<CheckSplitClusterCfg, fp8kit::kGemmScaleAGroup128, fp8kit::kGemmScaleBBlock128, fp8kit::kGemmOutBF16>(p);
}
#include <fp8kit/gemm/split_k_params.cuh>
#include <fp8kit/gemm/split_k_reduce.cuh>
extern "C" __global__ void fp8kit_check_split_k_reduce(const __grid_constant__ fp8kit::SplitKReduceParams p) {
  fp8kit::split_k_reduce<fp8kit::kGemmOutBF16>(p);
  fp8kit::split_k_reduce<fp8kit::kGemmOutF32>(p);
}
extern "C" __global__ void fp8kit_check_scale_broadcast(const __grid_constant__ fp8kit::ScaleBroadcastParams p) {
  fp8kit::broadcast_scale(p);
}
#include <fp8kit/quant/block_quant.cuh>
#include <fp8kit/quant/naive_quant.cuh>
#include <fp8kit/quant/quant_common.cuh>
#include <fp8kit/quant/row_quant.cuh>
#include <fp8kit/quant/tensor_quant.cuh>
extern "C" __global__ void fp8kit_check_quant(const __grid_constant__ fp8kit::QuantParams p) {
  fp8kit::quant_row_warp<fp8kit::InBF16, 256, 2>(p);
  fp8kit::quant_row_block<fp8kit::InF16, 512, 4>(p);
  fp8kit::quant_group_runs<fp8kit::InBF16, 128, true, 256, 4, true>(p);
  fp8kit::quant_row_two_pass<fp8kit::InF32, 512, 4, true>(p);
  fp8kit::quant_group_ragged<fp8kit::InBF16, 128, true, 256, 2, true>(p);
  fp8kit::quant_group_ragged<fp8kit::InF32, 32, false, 256, 1, false>(p);
  fp8kit::tensor_quant_one_launch<fp8kit::InBF16, 8, 2, 512>(p);
  fp8kit::tensor_amax<fp8kit::InF16, 256, 4, true>(p);
  fp8kit::scaled_cast<fp8kit::InBF16, fp8kit::CastScale::kGroup, 64, 256, 4, true>(p);
  fp8kit::scaled_cast<fp8kit::InF32, fp8kit::CastScale::kTensor, 0, 256, 4, false>(p);
  fp8kit::quant_block128<fp8kit::InBF16, true>(p);
  fp8kit::naive_amax<fp8kit::InF16, 256, 32>(p);
  fp8kit::naive_amax<fp8kit::InF32, 256, 256>(p);
  fp8kit::naive_scale(p);
  fp8kit::naive_cast<fp8kit::InBF16>(p);
  fp8kit::copy_block_scales(p);
}
#include <fp8kit/ptx/address.cuh>
#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/stmatrix.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>
#include <fp8kit/ptx/wgmma_e4m3.cuh>
// Calls every fp8kit/ptx wrapper once in the shape of the GEMM (producer + 2 consumer warpgroups,
// setmaxnreg, a cluster pair) so ptxas assembles each inline asm; wgmma for every N of the space.
namespace fp8kit_ptx_check {
using namespace fp8kit;
template <int N>
__device__ void wgmma_twice(u64 da, u64 db, float* out) {
  float d[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) d[i] = 0.0f;
  ptx::wgmma_fence_operands(d);
  ptx::wgmma_fence();
  ptx::wgmma_m64k32_e4m3<N>(d, da, db, false);
  ptx::wgmma_m64k32_e4m3<N>(d, ptx::wgmma_desc_advance(da, 32), ptx::wgmma_desc_advance(db, 32), true);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::wgmma_fence_operands(d);
#pragma unroll
  for (int i = 0; i < N / 2; ++i) out[i * 256 + threadIdx.x - 128] += d[i];
}
template <int... Ns>
__device__ void wgmma_every_n(u64 da, u64 db, float* out) { (wgmma_twice<Ns>(da, db, out), ...); }
}  // namespace fp8kit_ptx_check
extern "C" __global__ void __launch_bounds__(384, 1)
    fp8kit_check_ptx(const __grid_constant__ fp8kit::CUtensorMapOpaque map_a,
                     const __grid_constant__ fp8kit::CUtensorMapOpaque map_d, float* out) {
  using namespace fp8kit;
  extern __shared__ __align__(1024) u8 smem[];
  u8* tile_a = smem;                                                 // (64, 128) e4m3
  u8* tile_b = smem + 64 * 128;                                      // (256, 128) e4m3
  u64* bars = reinterpret_cast<u64*>(smem + 64 * 128 + 256 * 128);  // full, empty
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(&bars[0], 1);
    ptx::mbarrier_init(&bars[1], 256);
    ptx::fence_mbarrier_init();
  }
  ptx::cluster_sync();
  if (ptx::warpgroup_index() == 0) {
    ptx::setmaxnreg_dec<40>();
    if (ptx::warp_index_in_warpgroup() == 0 && ptx::elect_one_sync()) {
      ptx::tma_prefetch_descriptor(&map_a);
      ptx::mbarrier_arrive_expect_tx(&bars[0], 64 * 128);
      ptx::mbarrier_expect_tx(&bars[0], 256 * 128);
      ptx::tma_load_2d(tile_a, &map_a, &bars[0], 0, static_cast<i32>(blockIdx.x) * 64);
      ptx::tma_load_2d_multicast(tile_b, &map_a, &bars[0], 0, 0, static_cast<u16>(0x3));
      ptx::mbarrier_wait_parity(&bars[1], 0);
    }
  } else {
    ptx::setmaxnreg_inc<232>();
    ptx::mbarrier_wait_parity(&bars[0], 0);
    fp8kit_ptx_check::wgmma_every_n<16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256>(
        ptx::wgmma_desc_k_major_sw128(tile_a), ptx::wgmma_desc_k_major_sw128(tile_b), out);
    ptx::mbarrier_arrive(&bars[1]);
    if (ptx::thread_index_in_warpgroup() == 0) ptx::mbarrier_arrive_cluster(&bars[1], ptx::cluster_cta_rank() ^ 1u);
    tile_a[threadIdx.x] = static_cast<u8>(ptx::cluster_num_ctas());
    ptx::stmatrix_x4(tile_b + threadIdx.x % 32 * 16, threadIdx.x, 1u, 2u, 3u);
    ptx::fence_proxy_async_shared();
    ptx::named_barrier_sync(1, 256);
    if (threadIdx.x == 128) {
      ptx::tma_store_2d(&map_d, tile_a, 0, static_cast<i32>(blockIdx.x) * 64);
      ptx::tma_store_commit_group();
      ptx::tma_store_wait_read<0>();
      ptx::tma_store_wait_all<0>();
      ptx::fence_proxy_async_global();
    }
  }
  ptx::cluster_sync();
}
