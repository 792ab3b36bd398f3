// Builds a GemmConfig from the fields the config tests vary (the rest keep their defaults), and
// the config tests' checks of its rules.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

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

inline std::string joined(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += e + "\n";
  return s;
}

// The config breaks exactly one rule, the one tagged `tag`.
inline void expect_only_rule(const GemmConfig& c, const std::string& tag) {
  const auto errors = gemm_config_errors(c);
  ASSERT_EQ(errors.size(), 1u) << to_string(c) << "\n" << joined(errors);
  EXPECT_TRUE(errors[0].starts_with(tag + ":")) << errors[0];
  EXPECT_FALSE(is_valid(c));
}

inline void expect_valid(const GemmConfig& c) {
  EXPECT_TRUE(gemm_config_errors(c).empty()) << to_string(c) << "\n" << joined(gemm_config_errors(c));
  EXPECT_NO_THROW(validate(c));
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
