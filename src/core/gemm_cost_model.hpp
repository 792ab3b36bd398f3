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

// Decode (M <= kDecodeMaxM, one consumer warpgroup): microseconds on an H200. A CTA walks its K
// blocks one after another at a latency that grows with its B tile's width, so the time is
// waves x K blocks per split x (a + b x block_n / 64), plus for a split a fixed cost and the fp32
// partials' round trip (M x N x split x 8 bytes), plus the launch. Least squares on relative error
// over the 1099 candidates (16 rows at M <= 16, 32 at M <= 32, 64 at M <= 64; ring >= 4, no
// cluster, widths 16/32/64/128) of the M = 1-64 decode tune (docs/data/tune-journal-2026-12-04-
// session13-h200-decode.tgz; scripts/refit_decode_model.py). Without the partials term the model split N = 7168 at M = 32-64
// (m32n128 / m64n128 split 2) and ran 0.69-0.85x the unsplit m64n64 (A/B 2026-12-04, PERF.md).
// The heuristic picks by it up to M = kDecodeMaxM, the tuner ranks by it there (rank_by_cost); at
// M = 64 the model's picks measured 0.99x the compute model's, so 64-row tiles stay with that.
double decode_model_us(const GemmConfig& config, const GemmShape& shape, int sm_count);
inline constexpr std::int64_t kDecodeMaxM = 32;
// The rows of a decode tile for M <= kDecodeMaxM: the fewest that hold M, 16 or 32 (a second M tile
// would stream the weights twice).
constexpr int decode_block_m(std::int64_t m) { return m <= 16 ? 16 : 32; }

// The time the tuner orders candidates by (and the fake tuner's landscape). Up to kDecodeMaxM:
// decode_model_us times 1 + 0.1 x (block_m / rows - 1) for the rows past M, rows = 16 or 32 (the
// decode tune: a 32-row tile ran 1.10x the 16-row one at M <= 16, a 64-row 1.30x); in that tune
// the best config outside the model's data (two consumer warpgroups, clusters) beat the best inside
// it once in 105 searches, by 0.5%. Above: estimate_cost's time.
double predicted_us(const GemmConfig& config, const GemmShape& shape, const DeviceModel& device = {});

// `configs` sorted by predicted_us, fastest first; ties keep their input order. (Ranked by
// estimate_cost at decode M, the tune never measured m16n128 split 5 at 3072 x 7168, M = 1, which
// the heuristic then picked at 1.55x the tuned config.)
std::vector<GemmConfig> rank_by_cost(std::vector<GemmConfig> configs, const GemmShape& shape,
                                     const DeviceModel& device = {});

}  // namespace fp8kit
