// What `fp8kit cache warm` compiles: every distinct GEMM kernel a model's shapes use at the given
// batch sizes, the tuned config where one exists, else the default heuristic's. Pure C++.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "core/gemm_config.hpp"
#include "tune/tune_plan.hpp"

namespace fp8kit::tune {

struct WarmKernel {
  GemmConfig config;
  bool tuned = false;
};

// Distinct by kernel_name (group_size_m is a run-time value), in first-use order.
std::vector<WarmKernel> kernels_to_warm(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                        const std::function<std::optional<GemmConfig>(const GemmShape&)>& tuned,
                                        const std::function<GemmConfig(const GemmShape&)>& fallback);

}  // namespace fp8kit::tune
