#include "core/gemm_cost_model.hpp"

#include <algorithm>

namespace fp8kit {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The tile shape's rate, measured in the 2026-12-04 tune (H200):
//   - a 64-row tile with one consumer warpgroup runs as fast per area as a 128-row tile with two
//     (1.05 where promoted; 0.95 unpromoted, not measured since the lean issue path);
//   - one consumer with two 64-row slices: nothing issues wgmma while it promotes (1.24x the time
//     of two consumers at the same tile, 109 pairs);
//   - m256 with two consumers (two slices each, half the B traffic per flop): 3% faster;
//   - a tile straddling two B scale blocks (width not dividing 128) pays for choosing a B scale
//     per 8 columns: 20% below 128 wide (chosen at run time), 10% above (one compiled promotion
//     per split; refitted to the 2026-12-04 session 10 tune), yet n80-n192 still win where they
//     cut a wave.
double shape_rate(const GemmConfig& c) {
  const bool promoted = gemm_needs_promotion(c);
  const bool two_slices = rows_per_warpgroup(c) > kWgmmaM;
  double rate = 1.0;
  if (c.consumer_warpgroups == 1) {
    rate = !promoted ? 0.95 : two_slices ? 0.8 : 1.05;
  } else if (two_slices) {
    rate = 1.03;
  }
  const bool straddles = c.mode_b == ScaleModeB::kBlock128 && kGemmBlockK % c.block_n != 0;
  if (!straddles) return rate;
  return rate * (c.block_n > kGemmBlockK ? 0.9 : 0.8);
}

// A 2-stage ring exposes load latency. A 2-CTA cluster couples the pair's pipelines (every ring
// slot waits for both consumers): 1.05x the time of one CTA at equal tile and ring (582 pairs).
double ring_and_cluster_rate(const GemmConfig& c) {
  return (c.stages >= 3 ? 1.0 : 0.8) * (gemm_cluster_size(c) > 1 ? 0.95 : 1.0);
}

std::int64_t concurrent_ctas(const GemmConfig& c, int sm_count) {
  const int cluster = gemm_cluster_size(c);
  return std::max<std::int64_t>(sm_count / cluster * cluster, cluster);  // whole clusters
}

}  // namespace

double tile_rate(const GemmConfig& c) { return shape_rate(c) * ring_and_cluster_rate(c); }

double tile_model_cost(const GemmConfig& c, const GemmShape& s, int sm_count) {
  const std::int64_t tiles = ceil_div(s.m, c.block_m) * ceil_div(s.n, c.block_n);
  const std::int64_t rounds = ceil_div(tiles, concurrent_ctas(c, std::max(sm_count, 1)));
  const double area = c.block_m / 128.0 * c.block_n;
  const double fixed = 48.0 * std::max(c.block_m, 128) / 128.0;
  return static_cast<double>(rounds) * (area + fixed) / tile_rate(c);
}

double decode_model_us(const GemmConfig& c, const GemmShape& s, int sm_count) {
  const std::int64_t waves = ceil_div(gemm_units(c, s), std::max(sm_count, 1));
  const std::int64_t k_blocks = ceil_div(ceil_div(s.k, kGemmBlockK), c.split_k);
  // The same tune's rings against each tile's best: 2 stages 1.25, 3 1.10-1.16, 4-8 1.01-1.02,
  // 12-16 1.02-1.035 (a shallow ring exposes the load; a deep one queues more than HBM serves).
  const double ring = c.stages <= 2 ? 1.25 : c.stages == 3 ? 1.12 : c.stages > 8 ? 1.03 : 1.0;
  const double per_k_block = ring * (0.1095 + 0.1033 * c.block_n / 64.0);
  const double partial_mb = static_cast<double>(s.m * s.n * c.split_k) * 8e-6;
  const double split = c.split_k > 1 ? 1.04 + 0.1257 * partial_mb : 0.0;
  return static_cast<double>(waves * k_blocks) * per_k_block + split + 1.85;
}

CostEstimate estimate_cost(const GemmConfig& c, const GemmShape& s, const DeviceModel& d) {
  CostEstimate e;
  e.tiles = ceil_div(s.m, c.block_m) * ceil_div(s.n, c.block_n);
  e.tile_efficiency = static_cast<double>(s.m * s.n) / static_cast<double>(e.tiles * c.block_m * c.block_n);
  const std::int64_t concurrent = concurrent_ctas(c, d.sm_count);
  e.waves = static_cast<double>(e.tiles) / static_cast<double>(concurrent);
  e.wave_efficiency = static_cast<double>(e.tiles) / static_cast<double>(ceil_div(e.tiles, concurrent) * concurrent);

  // One unit of the tile model: a 128 x 1 area over one 128-wide K block, at an SM's peak.
  const double unit_s = 2.0 * 128 * kGemmBlockK / (d.peak_tflops * 1e12 / d.sm_count);
  const double k_blocks = static_cast<double>(ceil_div(s.k, kGemmBlockK));
  const double sm_time = tile_model_cost(c, s, d.sm_count) * k_blocks * unit_s;
  const double k = static_cast<double>(s.k);
  const double unique_bytes =
      static_cast<double>(s.m + s.n) * k + static_cast<double>(s.m * s.n) * static_cast<double>(dtype_size(c.out));
  const double hbm_time = unique_bytes / (d.hbm_gbps * 1e9);
  // Imperfect overlap breaks ties between configs bound by the same limit.
  const double seconds = std::max(sm_time, hbm_time) + 0.1 * std::min(sm_time, hbm_time);
  e.time_us = seconds * 1e6;
  e.tflops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * k / seconds / 1e12;
  return e;
}

double predicted_us(const GemmConfig& c, const GemmShape& s, const DeviceModel& d) {
  if (s.m > kDecodeMaxM) return estimate_cost(c, s, d).time_us;
  const double rows = decode_block_m(s.m);
  return decode_model_us(c, s, d.sm_count) * (1.0 + 0.1 * std::max(c.block_m / rows - 1.0, 0.0));
}

std::vector<GemmConfig> rank_by_cost(std::vector<GemmConfig> configs, const GemmShape& shape, const DeviceModel& device) {
  std::vector<std::pair<double, std::size_t>> keyed;
  keyed.reserve(configs.size());
  for (std::size_t i = 0; i < configs.size(); ++i) keyed.emplace_back(predicted_us(configs[i], shape, device), i);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<GemmConfig> ranked;
  ranked.reserve(configs.size());
  for (const auto& [t, i] : keyed) ranked.push_back(configs[i]);
  return ranked;
}

}  // namespace fp8kit
