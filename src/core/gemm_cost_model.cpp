#include "core/gemm_cost_model.hpp"

#include <algorithm>
#include <cmath>

namespace fp8kit {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Fixed per-wgmma overhead (issue, A read from shared memory) weighs more on narrow N.
double wgmma_width_efficiency(int block_n) { return block_n / (block_n + 24.0); }

// A ring shallower than ~4 K blocks (in flight on the SM) exposes load latency.
double pipeline_efficiency(int stages_in_flight) {
  if (stages_in_flight >= 4) return 1.0;
  if (stages_in_flight == 3) return 0.92;
  return 0.8;
}

// With one consumer warpgroup nothing issues wgmma while it promotes. (Rating one-slice tiles at
// 1.0, as the heuristic's fit does, ranked the 2026-12-04 tune's measured configs worse here: this
// model has no fixed cost per tile to hold 64-row tiles back.)
double warpgroup_efficiency(const GemmConfig& c) {
  if (c.consumer_warpgroups >= 2) return 1.0;
  return gemm_needs_promotion(c) ? 0.85 : 0.95;
}

// A 2-CTA cluster halves the shared operand's loads by multicast but couples the pair's pipelines
// (every ring slot waits for both consumers): at equal tile and ring a cluster took 1.05x the time
// of one CTA (geomean of 582 pairs along M and N in a full tune of the lean-issue kernel, H200,
// 2026-12-04; 0.73-1.14). The earlier 15% charge dated from a cluster kernel that paid a GPU-scope
// fence per stage release.
double cluster_efficiency(const GemmConfig& c) { return gemm_cluster_size(c) > 1 ? 0.95 : 1.0; }

int ctas_per_sm(const GemmConfig& c, const DeviceModel& d) {
  const auto smem = gemm_smem_layout(c).total + 1024;  // 1 KiB reserved per block
  const int by_smem = static_cast<int>(d.smem_per_sm / std::max<std::int64_t>(smem, 1));
  const int by_threads = d.max_threads_per_sm / gemm_threads(c);
  // setmaxnreg: the producer at kProducerRegisters, each consumer thread at its budget.
  const int regs = kWarpgroupThreads * (kProducerRegisters + c.consumer_warpgroups * consumer_register_budget(c.consumer_warpgroups));
  const int by_registers = kSm90RegistersPerSm / std::max(regs, 1);
  return std::max(1, std::min({by_smem, by_threads, by_registers}));
}

}  // namespace

CostEstimate estimate_cost(const GemmConfig& c, const GemmShape& s, const DeviceModel& d) {
  CostEstimate e;
  const std::int64_t tiles_m = ceil_div(s.m, c.block_m), tiles_n = ceil_div(s.n, c.block_n);
  e.tiles = tiles_m * tiles_n;
  const double useful_flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  e.tile_efficiency = static_cast<double>(s.m * s.n) / static_cast<double>(e.tiles * c.block_m * c.block_n);

  e.ctas_per_sm = ctas_per_sm(c, d);
  std::int64_t concurrent = std::int64_t{d.sm_count} * e.ctas_per_sm;
  const int cluster = gemm_cluster_size(c);
  concurrent = std::max<std::int64_t>(concurrent / cluster * cluster, cluster);  // whole clusters
  const std::int64_t rounds = ceil_div(e.tiles, concurrent);
  e.waves = static_cast<double>(e.tiles) / static_cast<double>(concurrent);
  e.wave_efficiency = static_cast<double>(e.tiles) / static_cast<double>(rounds * concurrent);

  const double k = static_cast<double>(s.k);
  const double out_bytes = static_cast<double>(dtype_size(c.out));
  const double tile_load_bytes = (static_cast<double>(c.block_m) / c.cluster_n + static_cast<double>(c.block_n) / c.cluster_m) * k +
                                 (gemm_needs_promotion(c) ? c.block_m * 4.0 * k / kGemmBlockK : 0.0);
  const double tile_store_bytes = c.block_m * static_cast<double>(c.block_n) * out_bytes;
  e.bytes_per_flop = static_cast<double>(e.tiles) * (tile_load_bytes + tile_store_bytes) / useful_flops;

  e.mma_efficiency = wgmma_width_efficiency(c.block_n) * pipeline_efficiency(c.stages * e.ctas_per_sm) *
                     warpgroup_efficiency(c) * cluster_efficiency(c);
  const double sm_flops = d.peak_tflops * 1e12 / d.sm_count * e.mma_efficiency;
  const double sm_bytes = d.sm_load_gbps * 1e9;
  // One round: the SM's CTAs share its tensor cores and its load bandwidth.
  const double compute_s = e.ctas_per_sm * 2.0 * c.block_m * c.block_n * k / sm_flops;
  const double load_s = e.ctas_per_sm * tile_load_bytes / sm_bytes;
  const double store_s = tile_store_bytes / sm_bytes;  // hidden behind the other CTA's main loop when 2 share
  const double round_s = std::max(compute_s, load_s) + 0.1 * std::min(compute_s, load_s) +
                         (e.ctas_per_sm > 1 ? 0.0 : store_s);
  const double sm_time = static_cast<double>(rounds) * round_s;

  const double unique_bytes = static_cast<double>(s.m + s.n) * k + static_cast<double>(s.m * s.n) * out_bytes;
  const double hbm_time = unique_bytes / (d.hbm_gbps * 1e9);
  // Imperfect overlap breaks ties between configs bound by the same limit.
  const double seconds = std::max(sm_time, hbm_time) + 0.1 * std::min(sm_time, hbm_time);
  e.time_us = seconds * 1e6;
  e.tflops = useful_flops / seconds / 1e12;
  return e;
}

std::vector<GemmConfig> rank_by_cost(std::vector<GemmConfig> configs, const GemmShape& shape, const DeviceModel& device) {
  std::vector<std::pair<double, std::size_t>> keyed;
  keyed.reserve(configs.size());
  for (std::size_t i = 0; i < configs.size(); ++i) keyed.emplace_back(estimate_cost(configs[i], shape, device).time_us, i);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<GemmConfig> ranked;
  ranked.reserve(configs.size());
  for (const auto& [t, i] : keyed) ranked.push_back(configs[i]);
  return ranked;
}

}  // namespace fp8kit
