// Includes every kernel header so nvcc reports template and syntax errors in CI without a GPU
// (DESIGN.md §2). Keep this list complete: tests/cpu/test_jit_compile.cpp checks it.
#include <fp8kit/bench/copy.cuh>
#include <fp8kit/common/fp8.cuh>
#include <fp8kit/common/types.cuh>

// Instantiate the templates so their bodies are checked too.
extern "C" __global__ void fp8kit_check_copy(const __grid_constant__ fp8kit::CopyParams p) { fp8kit::copy_vectors<4, true>(p);
  fp8kit::copy_vectors<2, false>(p); }
extern "C" __global__ void fp8kit_check_fp8(const float* x, fp8kit::u8* q, float* back) {
  q[threadIdx.x] = fp8kit::e4m3_from_float(x[threadIdx.x]);
  back[threadIdx.x] = fp8kit::e4m3_to_float(q[threadIdx.x]) + static_cast<float>(fp8kit::e5m2_from_float(x[threadIdx.x]));
}
#include <fp8kit/gemm/epilogue_store.cuh>
#include <fp8kit/gemm/scale_broadcast.cuh>
#include <fp8kit/ref/scaled_gemm.cuh>
extern "C" __global__ void fp8kit_check_ref_gemm(const __grid_constant__ fp8kit::RefGemmParams p) {
  fp8kit::ref_scaled_gemm<fp8kit::kRefScaleAGroup128, fp8kit::kRefScaleBBlock128, fp8kit::kGemmOutBF16>(p);
  fp8kit::ref_scaled_gemm<fp8kit::kRefScaleAToken, fp8kit::kRefScaleBChannel, fp8kit::kGemmOutF16>(p);
  fp8kit::ref_scaled_gemm<fp8kit::kRefScaleATensor, fp8kit::kRefScaleBTensor, fp8kit::kGemmOutF32>(p);
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
  fp8kit::quant_row_warp<fp8kit::InBF16, 256, 2, true>(p);
  fp8kit::quant_row_block<fp8kit::InF16, 256, 4, false>(p);
  fp8kit::quant_row_loop<fp8kit::InF32, 512, 4, true>(p);
  fp8kit::quant_group<fp8kit::InBF16, 128, true, 256, 2, true>(p);
  fp8kit::quant_group<fp8kit::InF32, 32, false, 256, 1, false>(p);
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
