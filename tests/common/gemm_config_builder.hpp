// Builds a GemmConfig from the fields the config tests vary (the rest keep their defaults).
#pragma once

#include <vector>

#include "core/gemm_config.hpp"

namespace fp8kit::test {

inline GemmConfig gemm_config(int block_m, int block_n, int stages, int warpgroups, int cluster_m = 1,
                              int cluster_n = 1) {
  GemmConfig c;
  c.block_m = block_m;
  c.block_n = block_n;
  c.stages = stages;
  c.consumer_warpgroups = warpgroups;
  c.cluster_m = cluster_m;
  c.cluster_n = cluster_n;
  return c;
}

// The configs of the default search space valid for `shape` (what the tuner searches).
inline std::vector<GemmConfig> candidates_for(const GemmShape& shape) {
  std::vector<GemmConfig> out;
  for (const GemmConfig& c : gemm_search_space()) {
    if (is_valid(c, shape)) out.push_back(c);
  }
  return out;
}

}  // namespace fp8kit::test
