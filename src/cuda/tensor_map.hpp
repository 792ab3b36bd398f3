// 2-D tiled TMA tensor maps (cuTensorMapEncodeTiled) for the GEMM's operands: E4M3 (as UINT8),
// bf16, fp16 and fp32. The argument checks run first and need no GPU (check_tensor_map_2d); the
// encode itself reaches the driver through cuda::driver_function, so libcuda is never linked.
#pragma once

#include <cuda.h>  // CUtensorMap and its enums (types only; no driver function is called directly)

#include <cstdint>

#include "fp8kit/types.hpp"

namespace fp8kit::cuda {

enum class TensorMapSwizzle : std::uint8_t { kNone, k32B, k64B, k128B };
int swizzle_bytes(TensorMapSwizzle swizzle);  // 0, 32, 64, 128

// A row-major matrix in global memory, (rows, cols) with cols contiguous, read or written in boxes
// of (box_rows, box_cols). TMA coordinates are {column, row}.
struct TensorMap2d {
  const void* data = nullptr;
  DType dtype = DType::kE4M3;
  std::int64_t rows = 0, cols = 0;
  std::int64_t row_stride = 0;  // in elements, >= cols
  int box_rows = 0, box_cols = 0;
  TensorMapSwizzle swizzle = TensorMapSwizzle::k128B;
  const char* what = "tensor";  // names the argument in error messages ("a", "b", "scale_a", "out")
};

// The spec of a rank-2 view with unit column stride (what every GEMM operand is); throws
// kInvalidArgument naming `what` for another rank or a strided column.
TensorMap2d tensor_map_spec(const TensorView& view, int box_rows, int box_cols, TensorMapSwizzle swizzle,
                            const char* what);

// Throws fp8kit::Error(kInvalidArgument) naming the argument and the driver's rule: data non-null
// and 16-byte aligned; rows, cols in [1, 2^32]; row stride >= cols, in bytes a multiple of 16 and
// < 2^40; box dims in [1, 256] (a box may overhang the tensor's edge: TMA zero-fills loads and
// clips stores); box_cols * element size a multiple of 16 bytes and, with a swizzle, <= the
// swizzle width; dtype e4m3, e5m2, bf16, fp16 or fp32.
void check_tensor_map_2d(const TensorMap2d& spec);

// Checks, then encodes (L2 promotion 256B, out-of-bounds elements read as zero). Throws
// kEnvironment when there is no driver.
CUtensorMap encode_tensor_map_2d(const TensorMap2d& spec);

}  // namespace fp8kit::cuda
