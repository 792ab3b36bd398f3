#include "bench/quant_plan.hpp"

#include <set>

#include <fmt/format.h>

namespace fp8kit::bench {
namespace {

template <typename T>
void require_unique(const std::vector<T>& values, std::string_view flag) {
  std::set<T> seen;
  for (const T& v : values) {
    if (!seen.insert(v).second) throw_invalid_argument(fmt::format("{}: {} is given twice", flag, v));
  }
}

void require_positive(const std::vector<std::int64_t>& values, std::string_view flag) {
  if (values.empty()) throw_invalid_argument(fmt::format("{}: needs at least one value", flag));
  for (std::int64_t v : values) {
    if (v < 1) throw_invalid_argument(fmt::format("{}: {} is not a positive size", flag, v));
  }
  require_unique(values, flag);
}

bool is_group_flag_value(int g) { return g == kGroupPerTensor || g == kGroupPerToken || g == 32 || g == 64 || g == 128; }

}  // namespace

void validate_options(const QuantSuiteOptions& options) {
  if (options.dtype != DType::kBFloat16 && options.dtype != DType::kFloat16 && options.dtype != DType::kFloat32) {
    throw_invalid_argument(
        fmt::format("--dtype: {} is not an input dtype (half, bfloat16 or float)", dtype_name(options.dtype)));
  }
  require_positive(options.batch_sizes, "--batch-sizes");
  require_positive(options.hidden_sizes, "--hidden-sizes");
  if (options.group_sizes.empty()) throw_invalid_argument("--group-sizes: needs at least one value");
  for (int g : options.group_sizes) {
    if (!is_group_flag_value(g)) {
      throw_invalid_argument(fmt::format(
          "--group-sizes: {} is not supported (0 = per-tensor, -1 = per-token, or 1xG groups with G in 32, 64, 128)", g));
    }
  }
  require_unique(options.group_sizes, "--group-sizes");
  if (options.impls.empty()) throw_invalid_argument("--impl: needs at least one implementation");
  std::set<QuantImpl> impls;
  for (QuantImpl impl : options.impls) {
    if (!impls.insert(impl).second) throw_invalid_argument(fmt::format("--impl: {} is given twice", quant_impl_name(impl)));
  }
  if (options.out_dir.empty()) throw_invalid_argument("--out: the folder name is empty");
}

std::string QuantConfig::group_label() const {
  if (group_size == kGroupPerTensor) return "tensor";
  if (group_size == kGroupPerToken) return "token";
  return fmt::format("1x{}", group_size);
}

std::string QuantConfig::layout_label() const {
  if (spec.granularity != Granularity::kPerGroup) return "-";
  return std::string(scale_layout_name(spec.layout));
}

bool QuantConfig::operator==(const QuantConfig& other) const {
  return m == other.m && h == other.h && group_size == other.group_size && spec.layout == other.spec.layout;
}

QuantSpec spec_for_group_size(int group_size, ScaleLayout layout) {
  QuantSpec spec;
  if (group_size == kGroupPerTensor) {
    spec.granularity = Granularity::kPerTensor;
  } else if (group_size == kGroupPerToken) {
    spec.granularity = Granularity::kPerToken;
  } else {
    spec.granularity = Granularity::kPerGroup;
    spec.group_size = group_size;
    spec.layout = layout;
  }
  return spec;
}

QuantPlan expand_configs(const QuantSuiteOptions& options) {
  // Column-major scales only exist for 1xG groups (vLLM's script runs them for groups only).
  auto layouts_for = [&](int g) {
    std::vector<ScaleLayout> layouts{ScaleLayout::kRowMajor};
    if (g > 0 && options.column_major) {
      layouts.push_back(ScaleLayout::kColMajor);
      layouts.push_back(ScaleLayout::kColMajorTmaAligned);
    }
    return layouts;
  };
  QuantPlan plan;
  for (std::int64_t h : options.hidden_sizes) {
    std::vector<int> runnable;
    for (int g : options.group_sizes) {
      try {
        validate(spec_for_group_size(g, ScaleLayout::kRowMajor), 1, h);
        runnable.push_back(g);
      } catch (const Error& e) {
        const auto count = options.batch_sizes.size() * layouts_for(g).size();
        plan.skipped.push_back({h, g, static_cast<int>(count), e.what()});
      }
    }
    for (std::int64_t m : options.batch_sizes) {
      for (int g : runnable) {
        for (ScaleLayout layout : layouts_for(g)) plan.configs.push_back({m, h, g, spec_for_group_size(g, layout)});
      }
    }
  }
  return plan;
}

QuantBytes quant_bytes(const QuantConfig& config, DType input) {
  const std::int64_t elems = config.m * config.h;
  const std::int64_t read = elems * static_cast<std::int64_t>(dtype_size(input));
  const std::int64_t scales = scale_geometry(config.spec, config.m, config.h).alloc_elems * 4;
  QuantBytes b;
  b.moved = read + elems + scales;
  b.floor = b.moved + (config.spec.granularity == Granularity::kPerTensor ? read : 0);
  return b;
}

}  // namespace fp8kit::bench
