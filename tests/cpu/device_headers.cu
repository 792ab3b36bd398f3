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
