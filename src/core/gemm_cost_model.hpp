// A rough analytic model of the Hopper FP8 GEMM's time for one config and shape: the tuner orders
// and prunes its candidates by it (measurements choose the winner there). Pure C++.
//
// Per SM, each round runs ctas_per_sm tiles; a tile streams (block_m + block_n / cluster_m) x K
// bytes through TMA (B is multicast to the cluster's pair) and computes 2 * block_m * block_n * K
// flops at the tensor cores' rate times an efficiency that falls for narrow wgmma (per-instruction
// overhead), shallow rings (exposed latency) and one consumer warpgroup (promotion not hidden).
// Compute and loads overlap; the epilogue's store does not unless two CTAs share the SM. The whole
// GEMM also needs its unique bytes from HBM. Ragged M and N cost the padded tile area.
#pragma once

#include <cstdint>
#include <vector>

#include "core/gemm_config.hpp"

namespace fp8kit {

// Defaults: H100 SXM (dense FP8 peak, HBM3 bandwidth); sm_count comes from the device when known.
struct DeviceModel {
  int sm_count = 132;
  double peak_tflops = 989.0;      // dense FP8 tensor-core peak of the whole GPU
  double hbm_gbps = 3350.0;
  double sm_load_gbps = 110.0;     // what one SM's TMA pulls from L2/HBM (about 64 B/clk)
  int smem_per_sm = 233472;        // 228 KiB
  int max_threads_per_sm = 2048;
};

struct CostEstimate {
  std::int64_t tiles = 0;         // ceil(M / block_m) * ceil(N / block_n)
  double tile_efficiency = 0;     // useful / computed multiply-adds (ragged last tiles)
  int ctas_per_sm = 0;            // occupancy: shared memory, threads, registers
  double waves = 0;               // tiles / concurrent CTAs
  double wave_efficiency = 0;     // tiles / (rounds * concurrent CTAs)
  double bytes_per_flop = 0;      // bytes the tiles load (A, B, scales) + store, per useful flop
  double mma_efficiency = 0;      // tensor-core rate factor of the tile's wgmma shape and pipeline
  double time_us = 0;             // predicted
  double tflops = 0;              // predicted useful TFLOP/s
};

// `config` must be valid (the tuner prunes first); M, N, K > 0.
CostEstimate estimate_cost(const GemmConfig& config, const GemmShape& shape, const DeviceModel& device = {});

// `configs` sorted by predicted time, fastest first; ties keep their input order.
std::vector<GemmConfig> rank_by_cost(std::vector<GemmConfig> configs, const GemmShape& shape,
                                     const DeviceModel& device = {});

}  // namespace fp8kit
