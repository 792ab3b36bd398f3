// CPU reference quantizers (DESIGN.md §3). Written for clarity, not speed: every scale cell gets
// the fmax of |x| over its elements, then its scale, then every element is divided and encoded.
#include "core/ref_quant.hpp"

#include <fmt/format.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/fp8_codec.hpp"

// Bit-exactness with the GPU needs plain IEEE fp32 arithmetic.
#if defined(__FAST_MATH__)
#error "fp8kit's reference quantizer must not be compiled with -ffast-math"
#endif
static_assert(FLT_EVAL_METHOD == 0, "fp32 expressions must be evaluated in fp32");

namespace fp8kit::ref {
namespace {

constexpr std::int64_t kBlockEdge = 128;

bool is_float_input(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kBFloat16;
}

void check_inputs(const void* x, DType dtype, std::int64_t rows, std::int64_t cols,
                  std::int64_t row_stride, const QuantSpec& spec,
                  std::span<const float> static_scales, const ScaleGeometry& geometry) {
  if (!is_float_input(dtype)) {
    throw_invalid_argument(fmt::format(
        "quantize: input dtype {} is not supported (float, half or bfloat16)", dtype_name(dtype)));
  }
  if (row_stride < cols) {
    throw_invalid_argument(
        fmt::format("quantize: row_stride = {} is smaller than cols = {} (rows would overlap)",
                    row_stride, cols));
  }
  if (x == nullptr && rows > 0 && cols > 0) {
    throw_invalid_argument(fmt::format("quantize: x is null for a ({}, {}) input", rows, cols));
  }
  if (spec.static_scales) {
    if (static_cast<std::int64_t>(static_scales.size()) != geometry.alloc_elems) {
      throw_invalid_argument(
          fmt::format("quantize: static_scales has {} values; {} for a ({}, {}) input needs {}",
                      static_scales.size(), spec.describe(), rows, cols, geometry.alloc_elems));
    }
  } else if (!static_scales.empty()) {
    throw_invalid_argument(fmt::format(
        "quantize: {} static scales given but spec.static_scales is false", static_scales.size()));
  }
}

}  // namespace

float load_as_float(const void* data, DType dtype, std::int64_t i) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  switch (dtype) {
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, bytes + i * 4, sizeof v);
      return v;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      std::uint16_t bits;
      std::memcpy(&bits, bytes + i * 2, sizeof bits);
      return dtype == DType::kFloat16 ? half_to_float(bits) : bf16_to_float(bits);
    }
    default:
      throw_invalid_argument(
          fmt::format("load_as_float: dtype {} is not a float input", dtype_name(dtype)));
  }
}

float dynamic_scale(float amax, bool ue8m0) {
  float s = amax / kE4M3Max;
  if (!(s >= kMinDynamicScale)) s = kMinDynamicScale;  // also maps a NaN amax to the floor
  if (!ue8m0 || std::isinf(s)) return s;
  // 2^ceil(log2 s), exactly: s = m * 2^e with m in [0.5, 1); m == 0.5 is already a power of two.
  int e = 0;
  const float m = std::frexp(s, &e);
  return m == 0.5f ? s : std::ldexp(1.0f, e);
}

std::uint8_t quantize_value(float x, float scale) { return e4m3_from_float(x / scale); }

std::int64_t scale_offset(const QuantSpec& spec, const ScaleGeometry& geometry, std::int64_t row,
                          std::int64_t col) {
  switch (spec.granularity) {
    case Granularity::kPerTensor:
      return 0;
    case Granularity::kPerToken:
    case Granularity::kPerChannel:
      return geometry.offset(row, 0);
    case Granularity::kPerGroup:
      return geometry.offset(row, col / spec.group_size);
    case Granularity::kBlock128:
      return geometry.offset(row / kBlockEdge, col / kBlockEdge);
  }
  throw_invalid_argument("scale_offset: unknown granularity");
}

QuantOutput quantize(const void* x, DType dtype, std::int64_t rows, std::int64_t cols,
                     std::int64_t row_stride, const QuantSpec& spec,
                     std::span<const float> static_scales) {
  QuantOutput out;
  out.geometry = scale_geometry(spec, rows, cols);  // validates the spec against the shape
  const ScaleGeometry& geo = out.geometry;
  check_inputs(x, dtype, rows, cols, row_stride, spec, static_scales, geo);

  const auto at = [&](std::int64_t r, std::int64_t c) {
    return load_as_float(x, dtype, r * row_stride + c);
  };
  const auto alloc = static_cast<std::size_t>(geo.alloc_elems);
  out.scales.assign(alloc, 0.0f);

  if (spec.static_scales) {
    for (std::int64_t sr = 0; sr < geo.rows; ++sr) {
      for (std::int64_t sc = 0; sc < geo.cols; ++sc) {
        const auto i = static_cast<std::size_t>(geo.offset(sr, sc));
        out.scales[i] = static_scales[i];
      }
    }
  } else {
    // fmax ignores NaN, so a NaN element never decides the scale; an all-NaN cell keeps 0.
    std::vector<float> amax(alloc, 0.0f);
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < cols; ++c) {
        auto& cell = amax[static_cast<std::size_t>(scale_offset(spec, geo, r, c))];
        cell = std::fmax(cell, std::fabs(at(r, c)));
      }
    }
    for (std::int64_t sr = 0; sr < geo.rows; ++sr) {
      for (std::int64_t sc = 0; sc < geo.cols; ++sc) {
        const auto i = static_cast<std::size_t>(geo.offset(sr, sc));
        float a = amax[i];
        if (spec.scale_ub) a = std::fmin(a, *spec.scale_ub);
        out.scales[i] = dynamic_scale(a, spec.ue8m0);
      }
    }
  }

  out.q.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const float s = out.scales[static_cast<std::size_t>(scale_offset(spec, geo, r, c))];
      out.q[static_cast<std::size_t>(r * cols + c)] = quantize_value(at(r, c), s);
    }
  }
  return out;
}

QuantOutput quantize(const TensorView& x, const QuantSpec& spec,
                     std::span<const float> static_scales) {
  if (x.rank != 2) {
    throw_invalid_argument(
        fmt::format("quantize: x must be a matrix (rank 2), got {}", x.describe()));
  }
  if (x.size(1) > 1 && x.stride(1) != 1) {
    throw_invalid_argument(
        fmt::format("quantize: x must have unit column stride, got {}", x.describe()));
  }
  return quantize(x.data, x.dtype, x.size(0), x.size(1), x.stride(0), spec, static_scales);
}

}  // namespace fp8kit::ref
