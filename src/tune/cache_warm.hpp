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

using TunedChoice = std::function<std::optional<GemmConfig>(const GemmShape&)>;
using HeuristicChoice = std::function<GemmConfig(const GemmShape&)>;

struct ShapeChoice {
  GemmShape shape;
  WarmKernel kernel;
};

// Every (N, K) x M in that order, with the config it runs: the tuned one, else the heuristic's.
std::vector<ShapeChoice> configs_by_shape(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                          const TunedChoice& tuned, const HeuristicChoice& fallback);

// Those configs, distinct by kernel_name (group_size_m is a run-time value), in first-use order.
std::vector<WarmKernel> kernels_to_warm(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                        const TunedChoice& tuned, const HeuristicChoice& fallback);

}  // namespace fp8kit::tune
