// The one cost model of the Hopper FP8 GEMM: the heuristic (ops::default_gemm_config) picks the
// least-cost tile by it and the tuner orders and prunes its candidates by it (measurements choose
// the winner there). Pure C++.
//
// The kernel is persistent, one CTA per SM, so a GEMM takes rounds = ceil(tiles / CTAs) tile times
// (clusters whole). A tile's time is its area (block_m / 128 x block_n, per K block) over the rate
// of its shape, plus a fixed cost per 128 rows (prologue, epilogue; a 64-row tile pays as much as a
// 128-row one). Rates and the fixed cost were fitted to the journal of a full tune of the
// lean-issue kernel (DeepSeek-V3 TP 8 at M = 128-4096, H200, 2026-12-04): on its measured configs
// the model's favourite ran at 0.96 of the best (the model before it: 0.89), and the heuristic's
// pick measured 0.99 of the tuned configs on the GPU. The whole GEMM also needs its unique bytes
// from HBM. Ragged M and N cost the padded tile area.
#pragma once

#include <cstdint>
#include <vector>

#include "core/gemm_config.hpp"

namespace fp8kit {

// Defaults: an H200 (dense FP8 peak, HBM3e bandwidth); sm_count comes from the device when known.
struct DeviceModel {
  int sm_count = 132;
  double peak_tflops = 1979.0;  // dense FP8 tensor-core peak of the whole GPU
  double hbm_gbps = 4800.0;
};

struct CostEstimate {
  std::int64_t tiles = 0;      // ceil(M / block_m) * ceil(N / block_n)
  double tile_efficiency = 0;  // useful / computed multiply-adds (ragged last tiles)
  double waves = 0;            // tiles / concurrent CTAs
  double wave_efficiency = 0;  // tiles / (rounds * concurrent CTAs)
  double time_us = 0;          // predicted
  double tflops = 0;           // predicted useful TFLOP/s
};

// Relative throughput per tile area of the config's tile shape (1.0: m128 with two consumer
// warpgroups and one B scale block per tile), its ring and its cluster.
double tile_rate(const GemmConfig& config);

// The tile model's time of the GEMM in units of one 128 x 1 area of one K block at rate 1.0, per
// K block: rounds x (area + fixed) / rate. `sm_count` > 0.
double tile_model_cost(const GemmConfig& config, const GemmShape& shape, int sm_count);

// `config` must be valid (the tuner prunes first); M, N, K > 0.
CostEstimate estimate_cost(const GemmConfig& config, const GemmShape& shape, const DeviceModel& device = {});

// Decode (M <= 64, one consumer warpgroup): microseconds on an H200. A CTA walks its K blocks one
// after another at a latency that grows with the bytes of its A and B tiles, so the time is
// waves x K blocks per split x (a + b x (block_m + block_n) + c x block_n), plus a fixed cost for a
// split (the partials and the reduce) and for the launch. Least squares on relative error over the
// 2108 candidates (ring >= 4, no cluster) of the M = 1-32 decode tune (docs/data/
// tune-journal-2026-12-04-session13-h200-decode.tgz): the model's favourite tile measured 1.025 of
// each search's best at M = 1-64, the heuristic before it 1.121.
// The heuristic picks by it up to M = kDecodeMaxM (the tuner still ranks by estimate_cost).
double decode_model_us(const GemmConfig& config, const GemmShape& shape, int sm_count);
inline constexpr std::int64_t kDecodeMaxM = 64;

// `configs` sorted by predicted time, fastest first; ties keep their input order.
std::vector<GemmConfig> rank_by_cost(std::vector<GemmConfig> configs, const GemmShape& shape,
                                     const DeviceModel& device = {});

}  // namespace fp8kit
