// CPU reference quantizers: the definition of DESIGN.md §3 that every GPU kernel must equal bit
// for bit (values, scales, scale layout and padding).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::ref {

// Floor of every dynamic scale: keeps all-zero (and tiny) groups finite and well defined.
constexpr float kMinDynamicScale = 1.0f / (448.0f * 512.0f);

struct QuantOutput {
  std::vector<std::uint8_t> q;  // rows x cols E4M3 codes, row-major contiguous
  std::vector<float> scales;    // geometry.alloc_elems fp32 scales; padding entries are 0
  ScaleGeometry geometry;       // scale_geometry(spec, rows, cols)
};

// Quantizes a host matrix x of rows x cols elements of `dtype` (fp32, fp16 or bf16) whose rows
// start row_stride elements apart. static_scales is used only with spec.static_scales: 1 value
// (per-tensor), rows values (per-token) or geometry.alloc_elems values in the spec's layout
// (per-group); given scales are used as they are (no UE8M0 rounding). Throws fp8kit::Error.
QuantOutput quantize(const void* x, DType dtype, std::int64_t rows, std::int64_t cols,
                     std::int64_t row_stride, const QuantSpec& spec,
                     std::span<const float> static_scales = {});

// The same for a rank-2 host TensorView with unit column stride.
QuantOutput quantize(const TensorView& x, const QuantSpec& spec,
                     std::span<const float> static_scales = {});

// s = max(amax / 448, kMinDynamicScale) in fp32; with ue8m0, rounded up to a power of two exactly.
// amax = +Inf gives s = +Inf.
float dynamic_scale(float amax, bool ue8m0);

// e4m3_from_float(x / scale) with one IEEE fp32 division.
std::uint8_t quantize_value(float x, float scale);

// Offset in the scale buffer of the scale that covers element (row, col).
std::int64_t scale_offset(const QuantSpec& spec, const ScaleGeometry& geometry, std::int64_t row,
                          std::int64_t col);

// Reads element i of a host buffer of fp32, fp16 or bf16 as fp32 (exact).
float load_as_float(const void* data, DType dtype, std::int64_t i);

}  // namespace fp8kit::ref
