// A tuned-config file for the tuner's file and lookup tests: 7168 x 2048 on an H100, block scaling,
// a split-K config at M = 1, m64n128 at 64, a cluster_m = 2 m128n128 at 256.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/gemm_config_builder.hpp"
#include "core/tuned_config_file.hpp"

namespace fp8kit::test {

inline TunedConfigFile sample_file(std::int64_t n = 7168, std::int64_t k = 2048, std::string device = "NVIDIA H100 80GB HBM3") {
  TunedConfigFile f;
  f.n = n;
  f.k = k;
  f.device = std::move(device);
  f.versions = {{"cuda_runtime", "13.0"}, {"fp8kit", "0.1.0"}};
  f.date_utc = "2026-11-22T01:02:03Z";
  f.time_spent_s = 12.5;
  GemmConfig split = gemm_config(64, 32, 6, 1);
  split.split_k = 4;
  f.batches[1] = {split, 3.5, 1.25, "sm90_default_1", 17, 1};
  f.batches[64] = {gemm_config(64, 128, 4, 1), 210.0, 180.0, "sm90_default_64", 22, 0};
  f.batches[256] = {gemm_config(128, 128, 4, 2, 2), 600.0, 550.0, "sm90_default_256", 25, 2};
  return f;
}

}  // namespace fp8kit::test
