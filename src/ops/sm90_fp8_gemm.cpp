#include "ops/sm90_fp8_gemm.hpp"

#include <cuda.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "core/gemm_cost_model.hpp"
#include "core/gemm_spec.hpp"
#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "cuda/tensor_map.hpp"
#include "jit/kernel_loader.hpp"
#include "ops/gemm_kernels.hpp"
#include "ops/gemm_split_k.hpp"

// The kernel's own parameter struct (host-clean; kernels/ is on the library's include path).
#include <fp8kit/gemm/sm90_gemm_params.cuh>

namespace fp8kit::ops {
namespace {

// The map's bytes are copied into the kernel's struct, whose 64-byte alignment is what TMA needs.
static_assert(sizeof(CUtensorMap) == sizeof(CUtensorMapOpaque) && alignof(CUtensorMapOpaque) == 64,
              "the kernels' opaque tensor map holds the driver's");

CUtensorMapOpaque opaque(const CUtensorMap& map) {
  CUtensorMapOpaque o;
  std::memcpy(&o, &map, sizeof o);
  return o;
}

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The ring depth: the deepest (at most 8) that still leaves room for a full-size staging buffer
// (one store pass), else the deepest valid. Measured on an H200 (2026-12-02, the tuner's winners at
// M >= 512): m128n128 s4-s5 and m256n128 s3, all one pass, beat the deeper two-pass rings by
// 1-14%; beyond 8 a 128-wide K block is already several microseconds of prefetch. Decode tiles too:
// in the 2026-12-04 decode tune, the heuristic's tiles at 12 / 16 stages ran 1.05 / 1.07 of the
// search's best, at 4-8 stages 1.03.
int ring_depth(GemmConfig c) {
  int deepest = 0;
  for (int s : {8, 7, 6, 5, 4, 3, 2}) {
    c.stages = s;
    if (!is_valid(c)) continue;
    if (deepest == 0) deepest = s;
    if (gemm_store_passes(c) == 1 && s >= 3) return s;
  }
  return deepest;
}

// One launch's kernel, loaded once per config per process; the dynamic shared-memory limit is
// raised once per device.
struct GemmKernel {
  const jit::LoadedKernel* kernel = nullptr;
  std::array<bool, 64> smem_set_on_device{};
};

GemmKernel& kernel_for(const GemmConfig& config) {
  static std::mutex mutex;
  static std::unordered_map<GemmConfig, GemmKernel> kernels;
  std::lock_guard lock(mutex);
  GemmConfig key = config;
  key.group_size_m = 0;  // a run-time value: one kernel serves every group size
  auto [it, inserted] = kernels.try_emplace(key);
  if (inserted) {
    try {
      it->second.kernel = &jit::load_kernel(sm90_fp8_gemm_source(config));
    } catch (...) {
      kernels.erase(it);
      throw;
    }
  }
  int device = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  if (device < 0 || device >= 64) fail(fmt::format("scaled_mm: device index {} out of range", device));
  if (!it->second.smem_set_on_device[static_cast<std::size_t>(device)]) {
    it->second.kernel->set_max_dynamic_smem(static_cast<std::size_t>(gemm_smem_layout(config).total));
    it->second.smem_set_on_device[static_cast<std::size_t>(device)] = true;
  }
  return it->second;
}

// Only a real cluster is launched as one: a cluster-1 kernel with __cluster_dims__(1, 1, 1) ran
// 0.4-1.0% slower (H200 2026-12-04, two A/Bs over DeepSeek-V3 at M = 128-4096; M <= 512 gained most).
std::string cluster_dims_attribute(const GemmConfig& c) {
  const int cluster = gemm_launch_cluster_size(c);
  return cluster > 1 ? fmt::format("__cluster_dims__({}, 1, 1)", cluster) : std::string();
}

}  // namespace

bool sm90_fp8_gemm_supports(ScaleModeA, ScaleModeB) { return true; }

jit::KernelSource sm90_fp8_gemm_source(const GemmConfig& c) {
  validate(c);
  jit::KernelSource s;
  s.name = kernel_name(c);
  s.entry = kSm90GemmEntry;
  s.source = fmt::format(
      "// generated: {0}\n"
      "#include <fp8kit/gemm/sm90_fp8_gemm.cuh>\n"
      "struct Cfg {{\n"
      "  static constexpr int kBlockM = {1}, kBlockN = {2}, kBlockK = {3}, kStages = {4};\n"
      "  static constexpr int kConsumerWarpgroups = {5}, kClusterM = {6}, kClusterN = {15};\n"
      "  static constexpr int kProducerRegisters = {7}, kConsumerRegisters = {8};\n"
      "  static constexpr bool kOverlapPromotion = {13};\n"
      "  static constexpr int kStorePasses = {14}, kSplitK = {17};\n"
      "  static constexpr bool kFastAccum = {18}, kSplitCluster = {19};\n"
      "}};\n"
      "extern \"C\" __global__ void __launch_bounds__({9}, 1) {16}\n"
      "    {20}(const __grid_constant__ fp8kit::Sm90GemmParams p) {{\n"
      "  fp8kit::sm90_fp8_gemm<Cfg, {10}, {11}, {12}>(p);\n"
      "}}\n",
      s.name, c.block_m, c.block_n, c.block_k, c.stages, c.consumer_warpgroups, c.cluster_m, kProducerRegisters,
      consumer_register_budget(c.consumer_warpgroups), gemm_threads(c), gemm_scale_enum(c.mode_a),
      gemm_scale_enum(c.mode_b), gemm_out_enum(gemm_epilogue_out(c)), gemm_overlaps_promotion(c), gemm_store_passes(c),
      c.cluster_n, cluster_dims_attribute(c), c.split_k, c.fast_accum, c.split_cluster != 0, s.entry);
  return s;
}

namespace {
// Above M = kDecodeMaxM (decode_model_us picks the split below it): split K where the tiles leave
// at least half the SMs idle, up to 4 K ranges of at least 14 K blocks each, as many as the SMs
// take in one wave. Measured on an H200 (2026-12-04, m64n32 at
// N = 512/576, K = 7168, M = 1-64, graph timing): split 4 ran 1.45-1.6x the unsplit kernel, 7
// no better than 4 (8 K blocks a split: the fill and the partials' round trip dominate), 8 worse
// (144 units, two waves).
int max_split(std::int64_t tiles, const GemmShape& shape, int sm_count) {
  constexpr int kMaxSplit = 4, kMinKBlocks = 14;
  return static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>({kMaxSplit, sm_count / tiles, ceil_div(shape.k, kGemmBlockK) / kMinKBlocks})));
}

// M <= kDecodeMaxM: one consumer warpgroup on decode_block_m rows, the width and split of least
// decode_model_us among splits that fit one wave with at least kTuneMinSplitKBlocks K blocks each.
// Wide tiles cut into K ranges beat narrow whole-K ones at the same CTA count (3072 x 7168, M = 1:
// m16n64 split 2 8.2 us, m16n32 12.0 us): each CTA's K loop runs at a latency per K block, not at
// the bandwidth.
GemmConfig default_decode_config(const GemmShape& shape, const GemmConfig& base, int sm_count) {
  // [0]: widths that never straddle two 128-wide B scale blocks; [1]: 96 and 112, which do.
  GemmConfig best[2] = {base, base};
  double best_us[2] = {0, 0};
  const std::int64_t k_blocks = ceil_div(shape.k, kGemmBlockK);
  const int bm = decode_block_m(shape.m);
  for (int bn : {16, 32, 64, 96, 112, 128}) {
    const int straddles = kGemmScaleBlock % bn != 0;
    if (straddles && base.mode_b == ScaleModeB::kBlock128) continue;  // the model does not charge the scale choice
    GemmConfig c = base;
    c.block_m = bm;
    c.block_n = bn;
    c.consumer_warpgroups = 1;
    c.stages = ring_depth(c);
    if (c.stages == 0) continue;
    const std::int64_t tiles = ceil_div(shape.m, bm) * ceil_div(shape.n, bn);
    for (int split = 1; split <= (straddles ? 2 : kTuneMaxSplitK); ++split) {
      if (split > 1 && (split * tiles > sm_count || k_blocks / split < kTuneMinSplitKBlocks)) break;
      c.split_k = split;
      if (!is_valid(c, shape)) continue;
      const double us = decode_model_us(c, shape, std::max(sm_count, 1));
      if (best_us[straddles] == 0 || us < best_us[straddles]) {
        best_us[straddles] = us;
        best[straddles] = c;
      }
    }
  }
  // Without 128x128 B scales, 96 / 112 where the model has them 3% ahead, unsplit or split in two
  // (two always sum in their cluster). H200, 2026-12-05, Llama-3.1-8B / Qwen2.5-7B token x channel,
  // cold, M = 1 / 16: 1.07-1.16x at 6144 x 4096, 28672 x 4096, 37888 x 3584 (8-15% ahead in the
  // model); split in four, m16n112 at 3584 x 18944 (128 CTAs: no cluster by split_summed_in_cluster's
  // rule) ran 0.94-0.96x m16n128's cluster. The margin leaves the model's near-ties (7168 x 2048
  // M = 1, 0.4%: a split it misprices, as a block-scaled split there measured 0.86-0.94x) alone.
  if (best_us[1] > 0 && (best_us[0] == 0 || best_us[1] < 0.97 * best_us[0])) return best[1];
  return best[0];
}

// A tile's K ranges are summed inside their cluster (split_cluster) rather than through the
// workspace and a reduce kernel where the clusters fit on the SMs at once. H200, 2026-12-05
// (DeepSeek-V3 TP 8, M = 1/16/64; the heuristic's configs as twins, cold and graph, and every twin
// pair of a cold tune): clusters ran 1.03-1.19x the workspace path while they fit, and 0.62-0.81x
// beyond: 2 CTAs up to 66 clusters (every SM); 3 up to 36 (42 lost), 4 up to 28 (32 lost), 5 up to
// 18 (24 lost), 7 at 12 (16 lost). A cluster stays within one GPC, so fewer SMs take clusters of
// more than 2. Rule from that: 2 always, 3-4 on at most 85% of the SMs (112 of 132), 5-8 never.
GemmConfig split_summed_in_cluster(const GemmConfig& c, const GemmShape& shape, int sm_count) {
  if (c.split_k < 2 || c.split_k > 4) return c;
  if (c.split_k > 2 && gemm_units(c, shape) * 100 > 85 * static_cast<std::int64_t>(sm_count)) return c;
  GemmConfig clustered = c;
  clustered.split_cluster = 1;
  return is_valid(clustered, shape) ? clustered : c;
}

// A 64-row tile over the whole of a long K, one CTA per tile at M <= 64: a ring deep enough for 64 KB
// of B in flight, even (the overlapped loop's laps), at most 16. H100, 2026-12-06, cold, heuristic
// alone: m64n32 s8 -> s16 1.121x at 3072 x 7168 M = 64 and 1.022x at M = 48; 0.985x at 3072 x 1536
// (12 K blocks, shorter than the ring), hence K >= 32 blocks; with the shipped configs m64n48 s14
// 1.019x at 4608 x 7168, split tiles 0.97-1.00x (they keep ring_depth's).
constexpr int kDeepRingMaxStages = 16, kDeepRingMinKBlocks = 32;
constexpr std::int64_t kDeepRingBytesInFlight = 64 * 1024;
int deep_decode_ring(GemmConfig c, const GemmShape& shape) {
  const int shallow = c.stages;
  // 16 / 32-row tiles keep ring_depth's: their tunes never picked a ring deeper than 8 (session 13)
  if (c.block_m != kWgmmaM || ceil_div(shape.k, kGemmBlockK) < kDeepRingMinKBlocks) return shallow;
  const int wanted = static_cast<int>(std::min<std::int64_t>(
      kDeepRingMaxStages, ceil_div(kDeepRingBytesInFlight, gemm_smem_layout(c).b_stage)));
  for (int s = wanted + wanted % 2; s > shallow; s -= 2) {
    c.stages = s;
    if (is_valid(c, shape) && gemm_store_passes(c) == 1) return s;
  }
  return shallow;
}

int heuristic_split_k(const GemmConfig& c, const GemmShape& shape, int sm_count) {
  int split = max_split(ceil_div(shape.m, c.block_m) * ceil_div(shape.n, c.block_n), shape, sm_count);
  for (; split > 1; --split) {
    GemmConfig s = c;
    s.split_k = split;
    if (is_valid(s, shape)) break;
  }
  return split;
}
}  // namespace

GemmConfig default_gemm_config(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b, DType out,
                               int sm_count) {
  GemmConfig best;
  best.mode_a = mode_a;
  best.mode_b = mode_b;
  best.out = out;
  best.cluster_m = 1;
  if (shape.m <= kDecodeMaxM) {
    return split_summed_in_cluster(default_decode_config(shape, best, sm_count), shape, sm_count);
  }
  // The tile of least cost under the cost model (core/gemm_cost_model.hpp, fitted to a full tune),
  // each at the ring depth above and without a cluster; ties go to the later candidate. Widths
  // 16-192 (the model charges those that straddle two B scale blocks), 64-row tiles with one
  // consumer, 128-row with two, m256 at the widths the tuner picks.
  struct Tile {
    int block_m, block_n;
  };
  std::vector<Tile> tiles;
  if (shape.m <= 64) {
    // One consumer warpgroup: more rows would be mostly padding. Every width, so that a wave fits:
    // against the 2026-12-05 cold tune (H200, M = 64) the picks from {32, 64, 128} ran 1.029x the
    // search's best over DeepSeek-V3 TP 8 and 1.077x over Llama-3.1-8B / Qwen2.5-7B token x
    // channel; from these 1.024x and 1.027x, five cells better and none worse (24576 x 7168
    // m64n192 1.095 -> 1.017).
    for (int bn = 32; bn <= 192; bn += 16) tiles.push_back({64, bn});
  } else {
    for (int bn : {16, 32, 48, 64, 80, 96, 112, 128}) tiles.push_back({64, bn});
    for (int bn : {16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 192}) tiles.push_back({128, bn});
    for (int bn : {64, 128}) tiles.push_back({256, bn});
  }
  double best_cost = 0;
  for (const Tile& t : tiles) {
    GemmConfig c = best;
    c.block_m = t.block_m;
    c.block_n = t.block_n;
    c.consumer_warpgroups = t.block_m <= 64 ? 1 : 2;
    c.stages = ring_depth(c);
    if (c.stages == 0) continue;
    const double cost = tile_model_cost(c, shape, std::max(sm_count, 1));
    if (best_cost == 0 || cost <= best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  best.split_k = heuristic_split_k(best, shape, sm_count);
  if (shape.m <= 64 && best.split_k == 1) best.stages = deep_decode_ring(best, shape);
  return split_summed_in_cluster(best, shape, sm_count);
}

void fp8kit_scaled_mm(const TensorView& a, const TensorView& b, ScaleModeA mode_a, const TensorView& scale_a,
                      ScaleModeB mode_b, const TensorView& scale_b, const TensorView& out,
                      const std::optional<TensorView>& bias, cudaStream_t stream, const GemmConfig& requested,
                      const Sm90GemmLaunch& launch) {
  if (requested.mode_a != mode_a || requested.mode_b != mode_b || requested.out != out.dtype) {
    fail(fmt::format("scaled_mm: config {} does not match the call (a={} b={} out={})", to_string(requested),
                     scale_mode_name(mode_a), scale_mode_name(mode_b), dtype_name(out.dtype)));
  }
  const GemmShape s{a.size(0), b.size(0), a.size(1)};
  if (s.m == 0) return;
  validate(requested, s);
  if (launch.max_clusters < 0) {
    fail(fmt::format("scaled_mm: launch.max_clusters = {} must be >= 0 (0: one CTA per SM)", launch.max_clusters));
  }
  constexpr std::int64_t kIntMax = 0x7FFFFFFF;
  if (s.m > kIntMax || s.n > kIntMax || s.k > kIntMax) {
    fail(fmt::format("scaled_mm: backend fp8kit needs M, N, K < 2^31, got {}x{}x{}", s.m, s.n, s.k));
  }
  cuda::require_sm90("scaled_mm backend fp8kit");
  // Split-K's partials: a workspace that cannot grow inside a graph capture runs the tile unsplit
  // (same tile; the sum order, and so possibly the last bit, differs from the split run's). A split
  // cluster needs none: its CTAs sum each other's partials in shared memory.
  GemmConfig config = requested;
  const bool in_cluster = config.split_cluster != 0;
  const std::int64_t split_rows = ceil_div(s.m, config.block_m) * config.block_m;
  float* partials = config.split_k > 1 && !in_cluster
                        ? split_k_workspace(static_cast<std::size_t>(config.split_k * split_rows * s.n) * 4, stream)
                        : nullptr;
  if (partials == nullptr && !in_cluster) config.split_k = 1;
  const int sm_count = cuda::current_device_info_cached().sm_count;
  GemmKernel& k = kernel_for(config);

  Sm90GemmParams p{};
  const std::int64_t lda = s.m > 1 ? a.stride(0) : s.k;
  const std::int64_t ldb = s.n > 1 ? b.stride(0) : s.k;
  p.map_a = opaque(cuda::encode_tensor_map_2d(
      {a.data, DType::kE4M3, s.m, s.k, lda, config.block_m / config.cluster_n, 128, cuda::TensorMapSwizzle::k128B, "a"}));
  p.map_b = opaque(cuda::encode_tensor_map_2d({b.data, DType::kE4M3, s.n, s.k, ldb, config.block_n / config.cluster_m,
                                               128, cuda::TensorMapSwizzle::k128B, "b"}));
  if (mode_a == ScaleModeA::kGroup128) {
    p.map_sa = opaque(cuda::encode_tensor_map_2d({scale_a.data, DType::kFloat32, s.k / 128, s.m,
                                                  group128_scale_ld(s.m), 1, config.block_m,
                                                  cuda::TensorMapSwizzle::kNone, "scale_a"}));
  }
  p.scale_a = static_cast<const float*>(scale_a.data);
  p.scale_b = static_cast<const float*>(scale_b.data);
  // The epilogue's boxes: one warpgroup's rows by gemm_store_box_bytes, swizzled by that width.
  // Split-K stores fp32 partials into split_k slabs of the workspace instead, bias left to the reduce.
  const int box_bytes = gemm_store_box_bytes(config);
  const auto swizzle = box_bytes == 128  ? cuda::TensorMapSwizzle::k128B
                       : box_bytes == 64 ? cuda::TensorMapSwizzle::k64B
                                         : cuda::TensorMapSwizzle::k32B;
  const bool split = config.split_k > 1 && !in_cluster;  // through the workspace and the reduce kernel
  p.split_rows = static_cast<std::int32_t>(split_rows);
  if (in_cluster) {
    p.out = out.data;
    p.ld_out = s.m > 1 ? out.stride(0) : s.n;
  } else if (split) {
    const std::int64_t rows = config.split_k * split_rows;
    p.map_d = opaque(cuda::encode_tensor_map_2d({partials, DType::kFloat32, rows, s.n, s.n, rows_per_warpgroup(config),
                                                 box_bytes / 4, swizzle, "split-K workspace"}));
  } else {
    const int out_size = static_cast<int>(dtype_size(out.dtype));
    p.map_d = opaque(cuda::encode_tensor_map_2d({out.data, out.dtype, s.m, s.n, s.m > 1 ? out.stride(0) : s.n,
                                                 rows_per_warpgroup(config), box_bytes / out_size, swizzle, "out"}));
  }
  p.bias = bias && !split ? bias->data : nullptr;
  p.m = static_cast<std::int32_t>(s.m);
  p.n = static_cast<std::int32_t>(s.n);
  p.k = static_cast<std::int32_t>(s.k);
  p.scale_b_ld = static_cast<std::int32_t>(block128_scale_ld(s.k));
  p.group_size_m = config.group_size_m;
  p.prefetch_b = launch.prefetch_b ? 1 : 0;
  p.bias_dtype = gemm_bias_code(bias && !split ? std::optional<DType>(bias->dtype) : std::nullopt);

  // Persistent: one CTA per SM (the register budget is the whole register file), clusters whole.
  // Programmatic: the kernel waits for the previous grid before its first global access, so its
  // set-up overlaps that grid's tail (and the quantization before it in linear()).
  // A split cluster's CTAs take one unit each (they meet once, to sum): all of them are launched.
  const int cluster = gemm_launch_cluster_size(config);
  const std::int64_t units = ceil_div(s.m, config.block_m) / config.cluster_m *
                              (ceil_div(s.n, config.block_n) / config.cluster_n) * config.split_k;
  if (units > kIntMax) fail(fmt::format("scaled_mm: backend fp8kit: {} tiles exceed the int range", units));
  const std::int64_t clusters =
      in_cluster ? units / cluster
                 : std::min<std::int64_t>({units, std::max(1, sm_count / cluster),
                                           launch.max_clusters > 0 ? launch.max_clusters : kIntMax});
  const std::int64_t blocks = clusters * cluster;
  k.kernel->launch_with(dim3(static_cast<unsigned>(blocks)), dim3(static_cast<unsigned>(gemm_threads(config))),
                        static_cast<std::size_t>(gemm_smem_layout(config).total), stream, p,
                        jit::LaunchOrder::kProgrammatic);
  if (split) launch_split_k_reduce(partials, config.split_k, p.split_rows, out, bias, stream);
}

}  // namespace fp8kit::ops
