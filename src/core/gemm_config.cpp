#include "core/gemm_config.hpp"

#include <algorithm>
#include <numeric>
#include <ostream>
#include <unordered_set>

#include <fmt/format.h>

#include "core/gemm_spec.hpp"

namespace fp8kit {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

bool is_out_dtype(DType d) { return d == DType::kBFloat16 || d == DType::kFloat16 || d == DType::kFloat32; }

// Bytes of one output element (4 for a dtype that is not an out dtype: the rules report it elsewhere).
std::int64_t out_bytes(DType d) { return is_out_dtype(d) ? std::int64_t(dtype_size(d)) : 4; }

std::string out_label(DType d) {
  return is_out_dtype(d) ? std::string(gemm_out_name(d)) : std::string(dtype_name(d));
}

// Scale blocks of B (128 columns each) that the columns [j * bn, (j + 1) * bn) touch, at most, over
// every tile j: the tile starts at a multiple of gcd(bn, 128) inside a block, so the worst start is
// 128 - gcd(bn, 128) and the tile reaches 128 - gcd + bn - 1 columns past the block's start.
int max_scale_b_blocks_per_tile(int bn) {
  const int worst_start = kGemmBlockK - std::gcd(bn, kGemmBlockK);
  return (worst_start + bn - 1) / kGemmBlockK + 1;
}

GemmSmemLayout smem_layout_with_passes(const GemmConfig& c, int store_passes) {
  GemmSmemLayout s;
  s.a_stage = std::int64_t{c.block_m} * c.block_k;
  s.b_stage = std::int64_t{c.block_n} * c.block_k;
  // A split cluster writes D from the partials it sums, nothing staged (its partial reuses the ring).
  s.epilogue =
      c.split_cluster ? 0 : std::int64_t{c.block_m} * c.block_n * out_bytes(gemm_epilogue_out(c)) / store_passes;
  // A TMA load's shared-memory destination is 128-byte aligned: a 16-row tile's scales take 128.
  s.scale_a_stage = c.mode_a == ScaleModeA::kGroup128 ? (std::int64_t{c.block_m} * 4 + 127) / 128 * 128 : 0;
  s.barriers = std::int64_t{c.stages} * 2 * 8;
  s.total = std::int64_t{c.stages} * (s.a_stage + s.b_stage + s.scale_a_stage) + s.epilogue + s.barriers;
  return s;
}

}  // namespace

std::string_view gemm_out_name(DType out) {
  switch (out) {
    case DType::kBFloat16: return "bf16";
    case DType::kFloat16: return "fp16";
    case DType::kFloat32: return "fp32";
    default: break;
  }
  throw_invalid_argument(fmt::format("GEMM out dtype must be bf16, fp16 or fp32, got {}", dtype_name(out)));
}

std::string to_string(const GemmConfig& c) {
  return fmt::format(
      "GemmConfig{{block_m={}, block_n={}, block_k={}, stages={}, consumer_warpgroups={}, cluster_m={}, "
      "cluster_n={}, mode_a={}, mode_b={}, out={}, group_size_m={}{}{}{}}}",
      c.block_m, c.block_n, c.block_k, c.stages, c.consumer_warpgroups, c.cluster_m, c.cluster_n,
      scale_mode_name(c.mode_a), scale_mode_name(c.mode_b), out_label(c.out), c.group_size_m,
      c.split_k > 1 ? fmt::format(", split_k={}", c.split_k) : std::string(),
      c.split_cluster != 0 ? fmt::format(", split_cluster={}", c.split_cluster) : std::string(),
      c.fast_accum ? ", fast_accum" : "");
}

std::ostream& operator<<(std::ostream& os, const GemmConfig& config) { return os << to_string(config); }

std::string kernel_name(const GemmConfig& c) {
  const std::string cluster = c.cluster_n == 1 ? fmt::format("c{}", c.cluster_m) : fmt::format("cn{}", c.cluster_n);
  const std::string split =
      c.split_k > 1 ? fmt::format("_sk{}{}", c.split_k, c.split_cluster != 0 ? "cl" : "") : std::string();
  return fmt::format("sm90_fp8_gemm_a-{}_b-{}_{}_m{}n{}k{}_s{}_wg{}_{}{}{}", scale_mode_name(c.mode_a),
                     scale_mode_name(c.mode_b), gemm_out_name(c.out), c.block_m, c.block_n, c.block_k, c.stages,
                     c.consumer_warpgroups, cluster, split, c.fast_accum ? "_fa" : "");
}

DType gemm_epilogue_out(const GemmConfig& c) { return c.split_k > 1 && c.split_cluster == 0 ? DType::kFloat32 : c.out; }

int gemm_cluster_size(const GemmConfig& c) { return c.cluster_m * c.cluster_n; }

int gemm_launch_cluster_size(const GemmConfig& c) { return c.split_cluster != 0 ? c.split_k : gemm_cluster_size(c); }

std::int64_t gemm_units(const GemmConfig& c, const GemmShape& s) {
  return ceil_div(s.m, c.block_m) * ceil_div(s.n, c.block_n) * c.split_k;
}

int gemm_threads(const GemmConfig& c) { return kWarpgroupThreads * (1 + c.consumer_warpgroups); }

int rows_per_warpgroup(const GemmConfig& c) {
  return c.consumer_warpgroups > 0 ? c.block_m / c.consumer_warpgroups : 0;
}

int wgmma_slices(const GemmConfig& c) { return std::max(1, rows_per_warpgroup(c) / kWgmmaM); }

bool gemm_needs_promotion(const GemmConfig& c) {
  return is_scaled_by_128(c.mode_a, c.mode_b) || !c.fast_accum;
}

int consumer_register_budget(int consumer_warpgroups) {
  if (consumer_warpgroups <= 0) return 0;
  // What the producer gives back is shared by the consumers; setmaxnreg takes multiples of 8.
  const int left = (kSm90RegistersPerSm - kWarpgroupThreads * kProducerRegisters) /
                   (kWarpgroupThreads * consumer_warpgroups);
  return std::min(kConsumerRegisterCap, left / 8 * 8);
}

int consumer_registers_needed(const GemmConfig& c) {
  // A 64 x N wgmma leaves 64 * N / 128 = N / 2 fp32 accumulators in each of the 128 threads.
  const int accumulators = wgmma_slices(c) * (c.block_n / 2);
  const int promotion =
      gemm_needs_promotion(c) ? c.block_n / 2 + kPromotionRegisterOverhead - kKernelPromotionSavings : 0;
  return accumulators + promotion + kConsumerRegisterOverhead;
}

int gemm_store_box_bytes(const GemmConfig& c) {
  const std::int64_t row = c.block_n * out_bytes(gemm_epilogue_out(c));
  for (int w : {128, 64, 32}) {
    if (row % w == 0) return w;
  }
  return 0;  // block_n not a multiple of 16: reported by the block_n rule
}

GemmSmemLayout gemm_smem_layout(const GemmConfig& c) { return smem_layout_with_passes(c, gemm_store_passes(c)); }

int gemm_store_passes(const GemmConfig& c) {
  if (smem_layout_with_passes(c, 1).total <= kSm90SmemPerBlock) return 1;
  const int box = gemm_store_box_bytes(c);
  return box > 0 && c.block_n * out_bytes(gemm_epilogue_out(c)) / box % 2 == 0 ? 2 : 1;
}

bool gemm_overlaps_promotion(const GemmConfig& c) {
  if (!gemm_needs_promotion(c)) return false;
  const int accumulators = wgmma_slices(c) * (c.block_n / 2);
  return accumulators + c.block_n + kOverlapRegisterOverhead <= consumer_register_budget(c.consumer_warpgroups);
}

namespace {

// The rules on each field alone (and pairs of fields), before the budgets that assume them.
std::vector<std::string> field_errors(const GemmConfig& c) {
  std::vector<std::string> e;
  // One stage = one 128-wide K block, so each stage carries exactly one scale per row / block and
  // promotion happens once per stage; 128 e4m3 bytes are also one 128B swizzle row.
  if (c.block_k != kGemmBlockK) e.push_back(fmt::format("block_k: must be 128 (one scale block), got {}", c.block_k));
  // Beyond 2 consumers (>= 512 threads) each gets <= 152 registers: too few for a promoted 64-row
  // slice of a useful width, and block_m <= 256 has no more 64/128-row slices to hand out.
  const bool wg_ok = c.consumer_warpgroups == 1 || c.consumer_warpgroups == 2;
  if (!wg_ok) {
    e.push_back(fmt::format("consumer_warpgroups: must be 1 or 2, got {}", c.consumer_warpgroups));
  } else if (const int rows = rows_per_warpgroup(c);
             c.block_m % c.consumer_warpgroups != 0 ||
             (rows != kWgmmaM && rows != 2 * kWgmmaM && !(c.consumer_warpgroups == 1 && (rows == 16 || rows == 32)))) {
    // wgmma covers 64 rows; a warpgroup takes one or two 64-row slices (more would not fit its
    // accumulators), so block_m is 64 x warpgroups or 128 x warpgroups: 64, 128 or 256 (the TMA box
    // limit). Decode tiles of 16 or 32 rows load only those (a 16-deep ring fits, as DeepGEMM's);
    // the wgmma still computes 64 and the rest are discarded.
    e.push_back(fmt::format(
        "block_m: must be 64 or 128 rows per consumer warpgroup (wgmma M = 64), or 16 / 32 with one, got {} over {}",
        c.block_m, c.consumer_warpgroups));
  }
  // wgmma N is a multiple of 8 up to 256 (also the TMA box limit on B's rows); fp8kit instantiates
  // multiples of 16, which keep each half of a multicast B tile whole 8-row swizzle atoms.
  const bool n_ok = c.block_n >= 16 && c.block_n <= kTmaBoxMax && c.block_n % 16 == 0;
  if (!n_ok) e.push_back(fmt::format("block_n: must be a multiple of 16 in [16, 256] (wgmma N), got {}", c.block_n));
  // A tile whose columns touch 3 scale blocks of B would need 3 scales per K block and a 3-way
  // select in the promotion; <= 2 keeps it one compare per column (block_n - gcd(block_n, 128) <= 128).
  if (n_ok && c.mode_b == ScaleModeB::kBlock128 && max_scale_b_blocks_per_tile(c.block_n) > 2) {
    e.push_back(fmt::format("scale_b span: block_n {} lets a tile touch {} 128-column scale blocks of B (at most 2)",
                            c.block_n, max_scale_b_blocks_per_tile(c.block_n)));
  }
  // Two stages are the least that overlaps a load with the math; phase bits fit one u32.
  if (c.stages < 2 || c.stages > kMaxStages) e.push_back(fmt::format("stages: must be in [2, 32], got {}", c.stages));
  // A cluster of 2 along M multicasts the B tile to both CTAs (they share an N column), one along N
  // the A tile (they share an M row); both at once (4 CTAs) is not built.
  if (c.cluster_m != 1 && c.cluster_m != 2) e.push_back(fmt::format("cluster_m: must be 1 or 2, got {}", c.cluster_m));
  if (c.cluster_n != 1 && c.cluster_n != 2) e.push_back(fmt::format("cluster_n: must be 1 or 2, got {}", c.cluster_n));
  if (c.cluster_m == 2 && c.cluster_n == 2) {
    e.push_back("cluster: 2 CTAs along M or along N, not both (cluster_m = cluster_n = 2)");
  }
  // Both CTAs of a cluster must take neighbouring M tiles of one N column, so a rasterization group
  // holds whole clusters.
  if (c.group_size_m < 1) {
    e.push_back(fmt::format("group_size_m: must be >= 1, got {}", c.group_size_m));
  } else if ((c.cluster_m == 1 || c.cluster_m == 2) && c.group_size_m % c.cluster_m != 0) {
    e.push_back(fmt::format("group_size_m: must be a multiple of cluster_m {}, got {}", c.cluster_m, c.group_size_m));
  }
  if (!is_out_dtype(c.out)) e.push_back(fmt::format("out: must be bf16, fp16 or fp32, got {}", dtype_name(c.out)));
  if (c.fast_accum && is_scaled_by_128(c.mode_a, c.mode_b)) {
    e.push_back(fmt::format("fast_accum: refused with 128-wide scales (a={} b={}), which promote every K block",
                            scale_mode_name(c.mode_a), scale_mode_name(c.mode_b)));
  }
  // Split-K: each of split_k CTAs takes a K range of the tile and stores fp32 partials that a
  // reduce sums in split order (deterministic); clusters share operands across tiles, not splits.
  if (c.split_k < 1 || c.split_k > kMaxSplitK) {
    e.push_back(fmt::format("split_k: must be in [1, {}], got {}", kMaxSplitK, c.split_k));
  } else if (c.split_k > 1 && gemm_cluster_size(c) != 1) {
    e.push_back(fmt::format("split_k: {} needs cluster 1 (cluster_m = cluster_n = 1)", c.split_k));
  }
  // A split cluster: the split_k CTAs of a tile in one (portable) cluster, rank s summing slice s.
  if (c.split_cluster != 0 && c.split_cluster != 1) {
    e.push_back(fmt::format("split_cluster: must be 0 or 1, got {}", c.split_cluster));
  } else if (c.split_cluster == 1 && (c.split_k < 2 || c.split_k > kMaxSplitCluster)) {
    e.push_back(fmt::format("split_cluster: needs split_k in [2, {}] (a portable cluster), got {}", kMaxSplitCluster,
                            c.split_k));
  }
  return e;
}

}  // namespace

std::vector<std::string> gemm_config_errors(const GemmConfig& c) {
  std::vector<std::string> e = field_errors(c);
  if (!e.empty()) return e;  // the budgets below assume sane fields

  if (c.block_m < kWgmmaM) {
    // A 16- or 32-row A tile is not split for multicast (8-row halves), and the wgmma reading 64
    // rows from the last A stage runs (64 - block_m) rows into the B ring, which must cover them.
    if (c.cluster_n != 1) e.push_back(fmt::format("cluster_n: a {}-row tile shares no A (must be 1)", c.block_m));
    if (c.stages * c.block_n < kWgmmaM - c.block_m) {
      e.push_back(fmt::format("stages: {} x block_n {} do not cover the {} rows the wgmma reads past the A ring",
                              c.stages, c.block_n, kWgmmaM - c.block_m));
    }
  }

  const int need = consumer_registers_needed(c);
  const int budget = consumer_register_budget(c.consumer_warpgroups);
  // Measured, not modelled: the real kernel's unpromoted consumer with two 64-row slices spills
  // from block_n = 128 on (4-24 bytes at m128n128 wg1 / m256n128 wg2, kilobytes at n192) although
  // its accumulators fit, under CUDA 13.0's ptxas.
  if (!gemm_needs_promotion(c) && rows_per_warpgroup(c) == 2 * kWgmmaM && c.block_n > kMaxTwoSliceUnpromotedN) {
    e.push_back(fmt::format("registers: an unpromoted consumer with 128 rows spills beyond block_n {}, got {}",
                            kMaxTwoSliceUnpromotedN, c.block_n));
  }
  if (need > budget) {
    const int accumulators = wgmma_slices(c) * c.block_n / 2;
    const int scratch = gemm_needs_promotion(c) ? c.block_n / 2 : 0;
    e.push_back(fmt::format(
        "registers: a consumer thread needs {} ({} accumulators{} + {} other) but setmaxnreg gives {} with {} "
        "consumer warpgroup(s) (64K registers per SM, producer at {})",
        need, accumulators, scratch > 0 ? fmt::format(" + {} promotion scratch", scratch) : std::string(),
        need - accumulators - scratch, budget, c.consumer_warpgroups, kProducerRegisters));
  }
  const GemmSmemLayout smem = gemm_smem_layout(c);
  // A split cluster's partial tile, rows (block_n + 8) floats apart, overwrites the ring.
  const std::int64_t partial = std::int64_t{c.block_m} * (c.block_n + 8) * 4;
  if (c.split_cluster == 1 && partial > c.stages * (smem.a_stage + smem.b_stage)) {
    e.push_back(fmt::format("shared memory: the split cluster's {}-byte partial tile exceeds the {}-byte ring", partial,
                            c.stages * (smem.a_stage + smem.b_stage)));
  }
  if (smem.total > kSm90SmemPerBlock) {
    e.push_back(fmt::format(
        "shared memory: {} bytes ({} stages x {} + epilogue {} + barriers {}) exceed the 232448 (227 KiB) a block may "
        "use",
        smem.total, c.stages, smem.a_stage + smem.b_stage + smem.scale_a_stage, smem.epilogue,
        smem.barriers));
  }
  return e;
}

std::vector<std::string> gemm_config_errors(const GemmConfig& c, const GemmShape& shape) {
  std::vector<std::string> e = gemm_config_errors(c);
  try {
    validate_gemm(shape, c.mode_a, c.mode_b);
  } catch (const Error& err) {
    e.push_back(fmt::format("shape: {}", err.what()));
    return e;
  }
  // Every cluster takes two real tiles: no CTA multicasts to a peer without work.
  if (c.cluster_m == 2 && c.block_m > 0 && ceil_div(shape.m, c.block_m) % 2 != 0) {
    e.push_back(fmt::format("cluster_m: 2 needs an even number of M tiles, M = {} gives {} tiles of {}", shape.m,
                            ceil_div(shape.m, c.block_m), c.block_m));
  }
  if (c.cluster_n == 2 && c.block_n > 0 && ceil_div(shape.n, c.block_n) % 2 != 0) {
    e.push_back(fmt::format("cluster_n: 2 needs an even number of N tiles, N = {} gives {} tiles of {}", shape.n,
                            ceil_div(shape.n, c.block_n), c.block_n));
  }
  // Every split gets K blocks: splits take ceil(K blocks / split_k) each, the last what remains.
  const std::int64_t k_blocks = ceil_div(shape.k, kGemmBlockK);
  if (c.split_k > 1 && (c.split_k - 1) * ceil_div(k_blocks, c.split_k) >= k_blocks) {
    e.push_back(fmt::format("split_k: {} leaves a split without K blocks (K = {}: {} blocks of 128)", c.split_k,
                            shape.k, k_blocks));
  }
  return e;
}

bool is_valid(const GemmConfig& config) { return gemm_config_errors(config).empty(); }
bool is_valid(const GemmConfig& config, const GemmShape& shape) { return gemm_config_errors(config, shape).empty(); }

namespace {
void throw_first(const GemmConfig& config, const std::vector<std::string>& errors) {
  if (errors.empty()) return;
  std::string more = errors.size() > 1 ? fmt::format(" (and {} more)", errors.size() - 1) : std::string();
  throw_invalid_argument(fmt::format("invalid GEMM config {}: {}{}", to_string(config), errors.front(), more));
}
}  // namespace

void validate(const GemmConfig& config) { throw_first(config, gemm_config_errors(config)); }
void validate(const GemmConfig& config, const GemmShape& shape) {
  throw_first(config, gemm_config_errors(config, shape));
}

std::vector<GemmConfig> gemm_search_space(const GemmSearchSpace& space) {
  std::vector<GemmConfig> out;
  std::unordered_set<GemmConfig> seen;
  for (int bm : space.block_m)
    for (int bn : space.block_n)
      for (int s : space.stages)
        for (int wg : space.consumer_warpgroups)
          for (int cm : space.cluster_m)
            for (int cn : space.cluster_n)
              for (int g : space.group_size_m) {
                GemmConfig c;
                c.block_m = bm;
                c.block_n = bn;
                c.stages = s;
                c.consumer_warpgroups = wg;
                c.cluster_m = cm;
                c.cluster_n = cn;
                c.group_size_m = g;
                // Rings deeper than 8 pay only where a stage is small (decode tiles, block_m <= 64:
                // 3072 x 7168 M = 64 ran m64n32 1.13x faster at s16 than at s8, cold, H100
                // 2026-12-06), and tiles under 64 rows need many N tiles to occupy the SMs:
                // elsewhere they would double the space for configs no tune has picked.
                if (bm > kWgmmaM ? s > kDeepRingMinStages : bm < kWgmmaM && bn > kDecodeMaxBlockN) continue;
                c.mode_a = space.mode_a;
                c.mode_b = space.mode_b;
                c.out = space.out;
                c.fast_accum = space.fast_accum;
                if (is_valid(c) && seen.insert(c).second) out.push_back(c);
              }
  return out;
}

std::vector<GemmConfig> split_k_variants(const GemmConfig& c, const GemmShape& shape, int sm_count) {
  std::vector<GemmConfig> out;
  const std::int64_t tiles = ceil_div(shape.m, c.block_m) * ceil_div(shape.n, c.block_n);
  if (c.split_k != 1 || gemm_cluster_size(c) != 1 || 2 * tiles > sm_count) return out;
  const std::int64_t k_blocks = ceil_div(shape.k, kGemmBlockK);
  for (int split = 2; split <= kTuneMaxSplitK && split * tiles <= sm_count; ++split) {
    if (k_blocks / split < kTuneMinSplitKBlocks) break;
    GemmConfig v = c;
    v.split_k = split;
    for (int in_cluster : {0, 1}) {
      v.split_cluster = in_cluster;
      if (is_valid(v, shape)) out.push_back(v);
    }
  }
  return out;
}

}  // namespace fp8kit

std::size_t std::hash<fp8kit::GemmConfig>::operator()(const fp8kit::GemmConfig& c) const noexcept {
  // splitmix64 finalizer over each field in turn: cheap, and every field moves every output bit.
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  auto mix = [&h](std::uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
  };
  for (int v : {c.block_m, c.block_n, c.block_k, c.stages, c.consumer_warpgroups, c.cluster_m, c.cluster_n,
                c.group_size_m, c.split_k, c.split_cluster, static_cast<int>(c.fast_accum)}) {
    mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)));
  }
  mix(static_cast<std::uint64_t>(c.mode_a));
  mix(static_cast<std::uint64_t>(c.mode_b));
  mix(static_cast<std::uint64_t>(c.out));
  return static_cast<std::size_t>(h);
}
