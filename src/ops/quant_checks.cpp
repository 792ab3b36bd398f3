// fp8kit::quantize's and prepare_block_scales' argument checks that need no GPU.
#include "ops/quant_checks.hpp"

#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace fp8kit::ops {
namespace {

bool is_float_input(DType d) { return d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16; }

std::int64_t round_up(std::int64_t a, std::int64_t b) { return (a + b - 1) / b * b; }

void check_matrix(const TensorView& t, const char* arg) {
  if (t.rank != 2) {
    throw_invalid_argument(fmt::format("quantize: {} must be a matrix (rank 2), got {}", arg, t.describe()));
  }
  if (t.size(0) < 0 || t.size(1) < 0) {
    throw_invalid_argument(fmt::format("quantize: {} has a negative extent: {}", arg, t.describe()));
  }
  if (t.size(1) > 1 && t.stride(1) != 1) {
    throw_invalid_argument(fmt::format("quantize: {} must have unit column stride, got {}", arg, t.describe()));
  }
  if (t.size(0) > 1 && t.stride(0) < t.size(1)) {
    throw_invalid_argument(fmt::format("quantize: {} row stride {} is smaller than its {} columns (rows would overlap): {}",
                                       arg, t.stride(0), t.size(1), t.describe()));
  }
  if (t.numel() > 0 && t.data == nullptr) {
    throw_invalid_argument(fmt::format("quantize: {} is a null pointer for {}", arg, t.describe()));
  }
  if (reinterpret_cast<std::uintptr_t>(t.data) % dtype_size(t.dtype) != 0) {
    throw_invalid_argument(fmt::format("quantize: {} = {} is not aligned to its {}-byte elements", arg, t.data,
                                       dtype_size(t.dtype)));
  }
}

struct Span {
  std::uintptr_t begin, end;
};
Span span_of(const TensorView& t) {
  const auto b = reinterpret_cast<std::uintptr_t>(t.data);
  return {b, b + t.span_bytes()};
}
bool overlaps(Span a, Span b) { return a.begin < b.end && b.begin < a.end && a.begin != a.end && b.begin != b.end; }

}  // namespace

void check_quantize_args(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec) {
  if (!is_float_input(x.dtype)) {
    throw_invalid_argument(fmt::format("quantize: x dtype {} is not supported (float, half or bfloat16)", dtype_name(x.dtype)));
  }
  if (q.dtype != DType::kE4M3) {
    throw_invalid_argument(fmt::format("quantize: q dtype must be e4m3, got {}", dtype_name(q.dtype)));
  }
  if (scales.dtype != DType::kFloat32) {
    throw_invalid_argument(fmt::format("quantize: scales dtype must be float (fp32), got {}", dtype_name(scales.dtype)));
  }
  check_matrix(x, "x");
  check_matrix(q, "q");
  if (q.size(0) != x.size(0) || q.size(1) != x.size(1)) {
    throw_invalid_argument(fmt::format("quantize: q shape ({}, {}) differs from x shape ({}, {})", q.size(0), q.size(1),
                                       x.size(0), x.size(1)));
  }
  const std::int64_t rows = x.size(0), cols = x.size(1);
  if (rows > std::numeric_limits<int>::max() || cols > std::numeric_limits<int>::max() ||
      rows * cols > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
    throw_invalid_argument(fmt::format("quantize: x ({}, {}) is too large (at most 2^32 - 1 elements)", rows, cols));
  }
  const ScaleGeometry geo = scale_geometry(spec, rows, cols);  // validates the spec (K % G, ...)

  // The scale buffer: rank 1 (or 0 for per-tensor) holding alloc_elems, or the geometry's shape
  // and strides; every entry of the buffer, padding included, is written (dynamic specs).
  bool ok = false;
  if (scales.rank == 0) {
    ok = geo.alloc_elems == 1;
  } else if (scales.rank == 1) {
    ok = scales.size(0) == geo.alloc_elems && (scales.size(0) <= 1 || scales.stride(0) == 1);
  } else if (scales.rank == 2) {
    ok = scales.size(0) == geo.rows && scales.size(1) == geo.cols &&
         (geo.rows <= 1 || scales.stride(0) == geo.row_stride) && (geo.cols <= 1 || scales.stride(1) == geo.col_stride);
  }
  if (!ok) {
    throw_invalid_argument(fmt::format(
        "quantize: scales {} do not fit {} of a ({}, {}) input: it needs {} fp32 values as rank 1, or shape ({}, {}) "
        "with strides ({}, {})",
        scales.describe(), spec.describe(), rows, cols, geo.alloc_elems, geo.rows, geo.cols, geo.row_stride,
        geo.col_stride));
  }
  if (geo.alloc_elems > 0 && scales.data == nullptr && rows * cols > 0) {
    throw_invalid_argument("quantize: scales is a null pointer");
  }
  if (reinterpret_cast<std::uintptr_t>(scales.data) % 4 != 0) {
    throw_invalid_argument(fmt::format("quantize: scales = {} is not 4-byte aligned", scales.data));
  }
  if (rows * cols == 0) return;
  const Span sx = span_of(x), sq = span_of(q);
  const auto sb = reinterpret_cast<std::uintptr_t>(scales.data);
  const Span ss{sb, sb + static_cast<std::uintptr_t>(geo.alloc_elems) * 4};
  if (overlaps(sx, sq)) throw_invalid_argument("quantize: x and q overlap (in-place quantization is not supported)");
  if (overlaps(sx, ss)) throw_invalid_argument("quantize: x and scales overlap");
  if (overlaps(sq, ss)) throw_invalid_argument("quantize: q and scales overlap");
}

void check_block_scale_args(const TensorView& in, const TensorView& out) {
  if (in.dtype != DType::kFloat32 || out.dtype != DType::kFloat32) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales must be float (fp32), got {} and {}",
                                       dtype_name(in.dtype), dtype_name(out.dtype)));
  }
  if (in.rank != 2 || in.size(0) < 0 || in.size(1) < 0) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales_in must be a matrix (rank 2), got {}", in.describe()));
  }
  const std::int64_t rows = in.size(0), cols = in.size(1), ld = round_up(cols, 4);
  if (in.stride(0) < 0 || in.stride(1) < 0) {
    throw_invalid_argument(fmt::format("prepare_block_scales: scales_in has a negative stride: {}", in.describe()));
  }
  bool ok = false;
  if (out.rank == 1) ok = out.size(0) == rows * ld && (out.size(0) <= 1 || out.stride(0) == 1);
  if (out.rank == 2) ok = out.size(0) == rows && out.size(1) == ld && out.is_contiguous();
  if (!ok) {
    throw_invalid_argument(fmt::format(
        "prepare_block_scales: scales_out {} must hold ({}, {}) row-major fp32 (leading dimension round_up({}, 4))",
        out.describe(), rows, ld, cols));
  }
  if (rows * cols > std::int64_t{std::numeric_limits<int>::max()}) {
    throw_invalid_argument("prepare_block_scales: too many scales");
  }
  if (rows * cols > 0 && (in.data == nullptr || out.data == nullptr)) {
    throw_invalid_argument("prepare_block_scales: a null pointer");
  }
  if (reinterpret_cast<std::uintptr_t>(in.data) % 4 != 0 || reinterpret_cast<std::uintptr_t>(out.data) % 4 != 0) {
    throw_invalid_argument("prepare_block_scales: scales must be 4-byte aligned");
  }
  const Span a = span_of(in);
  const auto ob = reinterpret_cast<std::uintptr_t>(out.data);
  if (overlaps(a, Span{ob, ob + static_cast<std::uintptr_t>(rows * ld) * 4})) {
    throw_invalid_argument("prepare_block_scales: scales_in and scales_out overlap");
  }
}

}  // namespace fp8kit::ops
