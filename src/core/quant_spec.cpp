// QuantSpec names, validity rules and scale-tensor geometry (DESIGN.md §3).
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "fp8kit/quant.hpp"

namespace fp8kit {
namespace {

constexpr std::int64_t kBlockEdge = 128;    // 128 x 128 weight blocks
constexpr std::int64_t kScaleRowAlign = 4;  // 4 fp32 = 16 bytes, what TMA and cuBLASLt need

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

bool is_supported_group_size(int g) { return g == 32 || g == 64 || g == 128; }

}  // namespace

std::string_view granularity_name(Granularity g) {
  switch (g) {
    case Granularity::kPerTensor:
      return "per-tensor";
    case Granularity::kPerToken:
      return "per-token";
    case Granularity::kPerChannel:
      return "per-channel";
    case Granularity::kPerGroup:
      return "per-group";
    case Granularity::kBlock128:
      return "block128";
  }
  throw_invalid_argument(fmt::format("granularity_name: unknown value {}", static_cast<int>(g)));
}

std::string_view scale_layout_name(ScaleLayout l) {
  switch (l) {
    case ScaleLayout::kRowMajor:
      return "row-major";
    case ScaleLayout::kColMajor:
      return "col-major";
    case ScaleLayout::kColMajorTmaAligned:
      return "col-major-tma";
  }
  throw_invalid_argument(fmt::format("scale_layout_name: unknown value {}", static_cast<int>(l)));
}

// "per-group128 col-major-tma ue8m0", "per-token scale_ub=1200 static": only fields that apply.
std::string QuantSpec::describe() const {
  std::string text(granularity_name(granularity));
  if (granularity == Granularity::kPerGroup) {
    text += fmt::format("{} {}", group_size, scale_layout_name(layout));
  } else if (layout != ScaleLayout::kRowMajor) {
    text += fmt::format(" {}", scale_layout_name(layout));  // invalid, but say what was asked
  }
  if (static_scales) text += " static";
  if (ue8m0) text += " ue8m0";
  if (scale_ub) text += fmt::format(" scale_ub={}", *scale_ub);
  return text;
}

void validate(const QuantSpec& spec, std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0) {
    throw_invalid_argument(
        fmt::format("quantize: shape (rows, cols) = ({}, {}) has a negative extent", rows, cols));
  }
  const auto g = spec.granularity;
  if (static_cast<int>(g) > static_cast<int>(Granularity::kBlock128)) {
    throw_invalid_argument(
        fmt::format("quantize: granularity value {} is not a Granularity", static_cast<int>(g)));
  }
  if (static_cast<int>(spec.layout) > static_cast<int>(ScaleLayout::kColMajorTmaAligned)) {
    throw_invalid_argument(fmt::format("quantize: scale layout value {} is not a ScaleLayout",
                                       static_cast<int>(spec.layout)));
  }
  if (g == Granularity::kPerGroup) {
    if (!is_supported_group_size(spec.group_size)) {
      throw_invalid_argument(fmt::format(
          "quantize: group_size = {} is not supported (per-group needs G in {{32, 64, 128}})",
          spec.group_size));
    }
    if (cols % spec.group_size != 0) {
      throw_invalid_argument(fmt::format(
          "quantize: cols (K) = {} is not a multiple of group_size {} (K % G == 0 is required)",
          cols, spec.group_size));
    }
  } else if (spec.layout != ScaleLayout::kRowMajor) {
    throw_invalid_argument(fmt::format(
        "quantize: scale layout {} applies only to per-group scales, not {} (use row-major)",
        scale_layout_name(spec.layout), granularity_name(g)));
  }
  if (spec.scale_ub) {
    if (g != Granularity::kPerToken || spec.static_scales) {
      throw_invalid_argument(
          fmt::format("quantize: scale_ub applies only to dynamic per-token scales, not {}{}",
                      granularity_name(g), spec.static_scales ? " with static scales" : ""));
    }
    const float ub = *spec.scale_ub;
    if (!std::isfinite(ub) || !(ub > 0.0f)) {
      throw_invalid_argument(
          fmt::format("quantize: scale_ub = {} must be a positive finite number", ub));
    }
  }
  if (spec.static_scales && g != Granularity::kPerTensor && g != Granularity::kPerToken &&
      g != Granularity::kPerGroup) {
    throw_invalid_argument(fmt::format(
        "quantize: static scales are supported for per-tensor, per-token and per-group, not {}",
        granularity_name(g)));
  }
}

ScaleGeometry scale_geometry(const QuantSpec& spec, std::int64_t rows, std::int64_t cols) {
  validate(spec, rows, cols);
  ScaleGeometry geo;
  switch (spec.granularity) {
    case Granularity::kPerTensor:
      geo = {1, 1, 1, 1, 1};
      break;
    case Granularity::kPerToken:
    case Granularity::kPerChannel:
      geo = {rows, 1, 1, 1, rows};
      break;
    case Granularity::kPerGroup: {
      const std::int64_t groups = cols / spec.group_size;
      switch (spec.layout) {
        case ScaleLayout::kRowMajor:
          geo = {rows, groups, groups, 1, rows * groups};
          break;
        case ScaleLayout::kColMajor:
          geo = {rows, groups, 1, rows, rows * groups};
          break;
        case ScaleLayout::kColMajorTmaAligned: {
          const std::int64_t ld = round_up(rows, kScaleRowAlign);
          geo = {rows, groups, 1, ld, ld * groups};
          break;
        }
      }
      break;
    }
    case Granularity::kBlock128: {
      const std::int64_t block_rows = ceil_div(rows, kBlockEdge);
      const std::int64_t block_cols = ceil_div(cols, kBlockEdge);
      const std::int64_t ld = round_up(block_cols, kScaleRowAlign);
      geo = {block_rows, block_cols, ld, 1, block_rows * ld};
      break;
    }
  }
  return geo;
}

std::string_view quant_impl_name(QuantImpl impl) {
  switch (impl) {
    case QuantImpl::kFp8kit:
      return "fp8kit";
    case QuantImpl::kNaive:
      return "naive";
  }
  throw_invalid_argument(fmt::format("quant_impl_name: unknown value {}", static_cast<int>(impl)));
}

QuantImpl parse_quant_impl(std::string_view name) {
  if (name == "fp8kit") return QuantImpl::kFp8kit;
  if (name == "naive") return QuantImpl::kNaive;
  throw_invalid_argument(fmt::format("unknown quantization implementation '{}' (fp8kit or naive)", name));
}

}  // namespace fp8kit
