#include "cuda/tensor_map.hpp"

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled_v12000

#include <cstring>

#include <fmt/format.h>

#include "cuda/driver.hpp"

namespace fp8kit::cuda {
namespace {

constexpr std::int64_t kMaxDim = std::int64_t{1} << 32;     // globalDim <= 2^32
constexpr std::int64_t kMaxStride = std::int64_t{1} << 40;  // globalStrides < 2^40
constexpr int kMaxBox = 256;                                 // boxDim <= 256
constexpr std::uintptr_t kAddressAlign = 16;                 // globalAddress 16-byte aligned
constexpr std::int64_t kStrideAlign = 16;                    // globalStrides multiples of 16

[[noreturn]] void fail(const TensorMap2d& s, const std::string& rule) {
  throw_invalid_argument(fmt::format("tensor map for {}: {}", s.what, rule));
}

CUtensorMapDataType data_type(DType dtype) {
  switch (dtype) {
    case DType::kE4M3:
    case DType::kE5M2: return CU_TENSOR_MAP_DATA_TYPE_UINT8;  // TMA moves bytes; fp8 has no enum of its own
    case DType::kBFloat16: return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
    case DType::kFloat16: return CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    case DType::kFloat32: return CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  }
  throw_invalid_argument(fmt::format("tensor map: unknown dtype code {}", static_cast<int>(dtype)));
}

CUtensorMapSwizzle swizzle_mode(TensorMapSwizzle s) {
  switch (s) {
    case TensorMapSwizzle::kNone: return CU_TENSOR_MAP_SWIZZLE_NONE;
    case TensorMapSwizzle::k32B: return CU_TENSOR_MAP_SWIZZLE_32B;
    case TensorMapSwizzle::k64B: return CU_TENSOR_MAP_SWIZZLE_64B;
    case TensorMapSwizzle::k128B: return CU_TENSOR_MAP_SWIZZLE_128B;
  }
  throw_invalid_argument(fmt::format("tensor map: unknown swizzle code {}", static_cast<int>(s)));
}

}  // namespace

int swizzle_bytes(TensorMapSwizzle swizzle) {
  switch (swizzle) {
    case TensorMapSwizzle::kNone: return 0;
    case TensorMapSwizzle::k32B: return 32;
    case TensorMapSwizzle::k64B: return 64;
    case TensorMapSwizzle::k128B: return 128;
  }
  throw_invalid_argument(fmt::format("tensor map: unknown swizzle code {}", static_cast<int>(swizzle)));
}

TensorMap2d tensor_map_spec(const TensorView& view, int box_rows, int box_cols, TensorMapSwizzle swizzle,
                            const char* what) {
  if (view.rank != 2) {
    throw_invalid_argument(fmt::format("tensor map for {}: needs a rank-2 tensor, got {}", what, view.describe()));
  }
  if (view.stride(1) != 1) {
    throw_invalid_argument(
        fmt::format("tensor map for {}: columns must be contiguous (stride 1), got {}", what, view.describe()));
  }
  TensorMap2d s;
  s.data = view.data;
  s.dtype = view.dtype;
  s.rows = view.size(0);
  s.cols = view.size(1);
  s.row_stride = view.stride(0);
  s.box_rows = box_rows;
  s.box_cols = box_cols;
  s.swizzle = swizzle;
  s.what = what;
  return s;
}

void check_tensor_map_2d(const TensorMap2d& s) {
  const std::int64_t elem = static_cast<std::int64_t>(dtype_size(s.dtype));
  (void)data_type(s.dtype);
  if (s.data == nullptr) fail(s, "data is null");
  const auto address = reinterpret_cast<std::uintptr_t>(s.data);
  if (address % kAddressAlign != 0) {
    fail(s, fmt::format("data {:#x} is not 16-byte aligned (TMA's global address rule)", address));
  }
  if (s.rows < 1 || s.rows > kMaxDim) fail(s, fmt::format("rows must be in [1, 2^32], got {}", s.rows));
  if (s.cols < 1 || s.cols > kMaxDim) fail(s, fmt::format("cols must be in [1, 2^32], got {}", s.cols));
  if (s.row_stride < s.cols) fail(s, fmt::format("row stride {} is smaller than cols {}", s.row_stride, s.cols));
  const std::int64_t stride_bytes = s.row_stride * elem;
  if (stride_bytes % kStrideAlign != 0) {
    fail(s, fmt::format("row stride of {} elements = {} bytes is not a multiple of 16 (TMA's global stride rule)",
                        s.row_stride, stride_bytes));
  }
  if (stride_bytes >= kMaxStride) fail(s, fmt::format("row stride of {} bytes is not below 2^40", stride_bytes));
  if (s.box_rows < 1 || s.box_rows > kMaxBox) fail(s, fmt::format("box rows must be in [1, 256], got {}", s.box_rows));
  if (s.box_cols < 1 || s.box_cols > kMaxBox) fail(s, fmt::format("box cols must be in [1, 256], got {}", s.box_cols));
  const std::int64_t box_bytes = s.box_cols * elem;
  if (box_bytes % 16 != 0) {
    fail(s, fmt::format("box cols {} x {} bytes = {} bytes is not a multiple of 16", s.box_cols, elem, box_bytes));
  }
  const int span = swizzle_bytes(s.swizzle);
  if (span > 0 && box_bytes > span) {
    fail(s, fmt::format("box cols {} x {} bytes = {} bytes exceed the {}-byte swizzle width", s.box_cols, elem,
                        box_bytes, span));
  }
}

CUtensorMap encode_tensor_map_2d(const TensorMap2d& s) {
  check_tensor_map_2d(s);
  // The kernels' CUtensorMapOpaque is 128 bytes, alignas(64) (the driver's rule for a map's address);
  // CUDA 13's header declares alignas(128), which satisfies it.
  static_assert(sizeof(CUtensorMap) == 128 && alignof(CUtensorMap) % 64 == 0, "CUtensorMapOpaque mirrors this");
  const auto encode = driver_function<PFN_cuTensorMapEncodeTiled_v12000>("cuTensorMapEncodeTiled", 12000);
  const std::int64_t elem = static_cast<std::int64_t>(dtype_size(s.dtype));
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(s.cols), static_cast<cuuint64_t>(s.rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(s.row_stride * elem)};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(s.box_cols), static_cast<cuuint32_t>(s.box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  CUtensorMap map;
  std::memset(&map, 0, sizeof(map));
  const CUresult r = encode(&map, data_type(s.dtype), 2, const_cast<void*>(s.data), dims, strides, box,
                            element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle_mode(s.swizzle),
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    // Every documented rule was checked above, so this is a driver refusal we did not foresee.
    throw_invalid_argument(fmt::format("tensor map for {}: cuTensorMapEncodeTiled failed with CUresult {} "
                                       "({} x {} {}, row stride {}, box {} x {}, swizzle {} B)",
                                       s.what, static_cast<int>(r), s.rows, s.cols, dtype_name(s.dtype),
                                       s.row_stride, s.box_rows, s.box_cols, swizzle_bytes(s.swizzle)));
  }
  return map;
}

}  // namespace fp8kit::cuda
