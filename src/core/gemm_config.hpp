// GemmConfig: the single source of truth for one instance of the own Hopper FP8 GEMM (DESIGN.md §4):
// its name, its validity rules (the host half of "validity is stated twice") and the search space
// the tuner walks. Pure C++, no CUDA header.
//
// Kernel structure these rules assume (kernels/fp8kit/gemm/sm90_fp8_gemm.cuh): one producer
// warpgroup issuing TMA loads of A, B and the scales into a `stages`-deep shared-memory ring
// (full/empty mbarrier per stage), and 1 or 2 consumer warpgroups issuing wgmma.m64nNk32.f32.e4m3.e4m3 from shared memory (128B
// swizzle, K-major). Consumer warpgroup w owns rows [w * rows_per_wg, (w + 1) * rows_per_wg) of the
// tile and every column: one wgmma per 64 rows per 32-wide K step, N = block_n. With 128-wide K
// scales (A group128 and/or B block128) each 64-row slice accumulates one K block into a scratch
// accumulator and is then promoted, `acc += sa * sb * scratch`, before the next slice (DeepGEMM's
// order); so the scratch is one wgmma's accumulator (block_n / 2 fp32 per thread), not the tile's.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {

// --- Hopper (sm_90a) facts the rules are built on ----------------------------------------------
constexpr int kSm90SmemPerBlock = 232448;     // 227 KiB: 228 KiB per SM less 1 KiB reserved per block
constexpr int kSm90RegistersPerSm = 65536;    // 64K 32-bit registers per SM
constexpr int kWarpgroupThreads = 128;        // 4 consecutive warps issue one wgmma
constexpr int kWgmmaM = 64;                   // wgmma rows per instruction
constexpr int kWgmmaK = 32;                   // wgmma K per instruction for e4m3 (32 bytes)
constexpr int kTmaBoxMax = 256;               // a TMA box has at most 256 elements per dimension
constexpr int kSwizzleAtomBytes = 1024;       // 128B swizzle repeats every 8 rows x 128 bytes
constexpr int kGemmBlockK = 128;              // one K block = one 1x128 / 128x128 scale = 128 bytes of e4m3
// setmaxnreg budgets: the producer drops to 40 (it only issues TMA), consumers take what is left of
// the 64K register file, capped at 240 (255 is the per-thread limit; setmaxnreg wants multiples of 8).
constexpr int kProducerRegisters = 40;
constexpr int kConsumerRegisterCap = 240;
// Registers a consumer thread needs besides accumulators: addresses, descriptors, loop state and
// barrier phases (all modes), plus with promotion the slice's A and B scales and the per-column
// choice between two B scales. First measured on a consumer skeleton in the kernel's shape (swept
// over every block_n of each (block_m, warpgroups) with CUDA 13.0's ptxas: spills with 16 spare
// registers and never with 32 when unpromoted, with 40 (once 48) spare and never with 56 when
// promoted); the skeleton is gone since the real kernel's no-spill test over the whole space
// (Sm90Fp8GemmSource.WholeBlockScaledSpaceCompilesWithoutSpills) judges every config. Where it
// needs more, these two constants are what to raise.
constexpr int kConsumerRegisterOverhead = 32;
constexpr int kPromotionRegisterOverhead = 24;
// The real kernel needs 16 fewer than the skeleton measured whenever it promotes. First measured where the
// tile sits in one B scale block (m256n128, two consumer warpgroups: 128 + 64 accumulators,
// DeepGEMM's favourite tile, fits 232); since the lean issue path (scales read before the MMAs,
// 32-bit descriptor adds) also where it straddles two: m128n192 with two consumer warpgroups
// (DeepGEMM's widest 1D2D tile) fits 96 + 96 in 232 and m64n192 with one in 240, no spills, every
// stage count, CUDA 13.0's ptxas (2026-12-03).
constexpr int kKernelPromotionSavings = 16;
constexpr int kMaxTwoSliceUnpromotedN = 112;  // see gemm_config_errors
// Overlapped promotion (two scratch accumulators, gemm_overlaps_promotion) needs fewer spare
// registers than the bound above: the real kernel, compiled by CUDA 13.0's ptxas, fits 192
// accumulators in 232 (m128n128, two warpgroups) and 216 spill in 240 (m64n144, one).
constexpr int kOverlapRegisterOverhead = 40;
constexpr int kMaxStages = 32;  // the kernel may keep one phase bit per stage in a u32
constexpr int kDeepRingMinStages = 8;  // the search space has deeper rings for block_m <= 64 only
constexpr int kDecodeMaxBlockN = 128;   // and tiles of block_m 16 / 32 at most this wide

inline constexpr int kMaxSplitK = 16;
inline constexpr int kMaxSplitCluster = 8;  // the portable cluster size

struct GemmConfig {
  int block_m = 128;             // tile rows (M); split over the consumer warpgroups
  int block_n = 128;             // tile columns (N) = wgmma N
  int block_k = kGemmBlockK;     // K per stage; always 128 (one scale block)
  int stages = 4;                // depth of the shared-memory ring
  int consumer_warpgroups = 2;   // warpgroups issuing wgmma (plus one producer warpgroup)
  int cluster_m = 1;             // CTAs per cluster along M; 2 = the B tile is TMA-multicast to both
  int cluster_n = 1;             // CTAs per cluster along N; 2 = the A tile is TMA-multicast to both
  ScaleModeA mode_a = ScaleModeA::kGroup128;
  ScaleModeB mode_b = ScaleModeB::kBlock128;
  DType out = DType::kBFloat16;
  int group_size_m = 8;          // tile rasterization (run time; not in kernel_name)
  int split_k = 1;               // K ranges per tile; > 1: fp32 partials to a workspace, then a reduce
  // 1 (with split_k 2..8): the split_k CTAs of a tile are one cluster and sum their partials through
  // distributed shared memory instead (no workspace, no reduce kernel); 0: the workspace path.
  int split_cluster = 0;
  // Modes without 128-wide scales (tensor, token, channel): true lets the tensor cores accumulate
  // all of K (cuBLASLt's fast accumulation); false promotes every K block into fp32 (the exact
  // path). Refused with 128-wide scales, which always promote. Not in the tuned-config files: they
  // hold exact-accumulation tunes, which a fast-accumulation GEMM reuses where they stay valid.
  bool fast_accum = false;

  friend auto operator<=>(const GemmConfig&, const GemmConfig&) = default;
  friend bool operator==(const GemmConfig&, const GemmConfig&) = default;
};

// "GemmConfig{block_m=128, block_n=128, block_k=128, stages=4, consumer_warpgroups=2, cluster_m=1,
//  cluster_n=1, mode_a=group128, mode_b=block128, out=bf16, group_size_m=8}"
std::string to_string(const GemmConfig& config);
std::ostream& operator<<(std::ostream& os, const GemmConfig& config);

// Every compile-time field, e.g. "sm90_fp8_gemm_a-group128_b-block128_bf16_m128n128k128_s4_wg2_c1"; the
// cluster part is "c<cluster_m>" (B shared along M), or "cn2" for a cluster along N (A shared).
// Names the cache folder, log lines and result rows. group_size_m is a run-time value: configs that
// differ only there share a kernel and a name.
std::string kernel_name(const GemmConfig& config);
std::string_view gemm_out_name(DType out);  // "bf16", "fp16", "fp32"; throws for other dtypes
// What the GEMM kernel's epilogue writes: the call's out dtype, or fp32 partials to the workspace
// when split_k > 1 without a split cluster.
DType gemm_epilogue_out(const GemmConfig& config);

// --- derived quantities (the kernel's static_asserts must agree with these) ---------------------
int gemm_threads(const GemmConfig& config);              // 128 * (1 producer + consumers)
int gemm_cluster_size(const GemmConfig& config);         // CTAs per multicast cluster: cluster_m * cluster_n
int gemm_launch_cluster_size(const GemmConfig& config);  // CTAs per launched cluster (split_k of a split cluster)
// Tiles x split_k: the (tile, K range) units a launch walks, one CTA each while they fit the SMs.
std::int64_t gemm_units(const GemmConfig& config, const GemmShape& shape);
int rows_per_warpgroup(const GemmConfig& config);        // block_m / consumer_warpgroups
int wgmma_slices(const GemmConfig& config);              // 64-row wgmma slices per warpgroup (>= 1)
bool gemm_needs_promotion(const GemmConfig& config);     // a 128-wide K scale on either side, or !fast_accum
int consumer_register_budget(int consumer_warpgroups);   // setmaxnreg.inc value of a consumer
int consumer_registers_needed(const GemmConfig& config); // accumulators (+ scratch) + overheads

// Shared memory, in the order the kernel lays it out: the tile buffers (A and B stages, the
// epilogue's staging tile) come first and are each a multiple of 1024 bytes, so each starts
// 1024-aligned (the 128B swizzle atom) behind a 1024-aligned base; the A-scale stages (256, 512 or
// 1024 bytes) keep TMA's 128-byte alignment; barriers last (8-byte). Consumers read B's 128x128
// scales through L1 (two floats per K block), so those take no shared memory.
struct GemmSmemLayout {
  std::int64_t a_stage = 0;        // (block_m, 128) e4m3                    = block_m * 128
  std::int64_t b_stage = 0;        // (block_n, 128) e4m3                    = block_n * 128
  std::int64_t epilogue = 0;       // (block_m, block_n / store passes) out, staged for the TMA store
  std::int64_t scale_a_stage = 0;  // (block_m) fp32 when A is group128     = block_m * 4, at least 128
  std::int64_t barriers = 0;       // full + empty mbarrier (8 bytes each) per stage
  std::int64_t total = 0;
};
GemmSmemLayout gemm_smem_layout(const GemmConfig& config);

// The epilogue stores each consumer warpgroup's rows as boxes of (rows, W bytes) with W the widest
// of 128, 64, 32 dividing a tile row (block_n x out size) and the TMA swizzle of that width: a box
// never reaches into the next tile, so neighbouring tiles' stores never overlap.
int gemm_store_box_bytes(const GemmConfig& config);
// The boxes go out in 1 pass through a full-size staging buffer where that fits beside the ring,
// else in 2 passes through a half-size one when their count is even (the second pass waits until
// the TMA engine has read the first: the price of a deeper ring, 6 stages instead of 5 at
// 128 x 128 bf16), else in 1.
int gemm_store_passes(const GemmConfig& config);
// Promotion overlapped with the next MMA unit (two scratch accumulators, one unit's wgmmas always
// queued) where a consumer's registers hold both; a function of the config, rendered into the
// kernel's source by the code generator.
bool gemm_overlaps_promotion(const GemmConfig& config);

// Broken rules, each one message that starts with the rule's tag ("block_k:", "block_m:",
// "block_n:", "scale_b span:", "stages:", "consumer_warpgroups:", "cluster_m:", "cluster_n:",
// "cluster:", "group_size_m:", "out:", "split_k:", "split_cluster:", "registers:", "shared memory:") and
// says why. Empty when the config is valid.
std::vector<std::string> gemm_config_errors(const GemmConfig& config);
// Config rules plus the problem's: the GEMM's own shape rules (validate_gemm), and with cluster_m
// = 2 an even number of M tiles (tag "cluster_m:"), with cluster_n = 2 of N tiles ("cluster_n:").
std::vector<std::string> gemm_config_errors(const GemmConfig& config, const GemmShape& shape);
bool is_valid(const GemmConfig& config);
bool is_valid(const GemmConfig& config, const GemmShape& shape);
// Throw fp8kit::Error(kInvalidArgument) with the first broken rule (and how many more there are).
void validate(const GemmConfig& config);
void validate(const GemmConfig& config, const GemmShape& shape);

// --- search space --------------------------------------------------------------------------------
// The declared space the tuner searches: the cross product of these lists for one scale
// pair and out dtype, pruned by the config rules. Defaults: block_m {16, 32, 64, 128, 256},
// block_n 16..256 step 16, stages 2..8, 12 and 16, 1 or 2 consumer warpgroups, clusters of 1 or 2
// CTAs along M or along N, group_size_m 8.
struct GemmSearchSpace {
  std::vector<int> block_m = {16, 32, 64, 128, 256};
  std::vector<int> block_n = {16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256};
  std::vector<int> stages = {2, 3, 4, 5, 6, 7, 8, 12, 16};  // > kDeepRingMinStages: block_m <= 64 only
  std::vector<int> consumer_warpgroups = {1, 2};
  std::vector<int> cluster_m = {1, 2};
  std::vector<int> cluster_n = {1, 2};
  std::vector<int> group_size_m = {8};
  ScaleModeA mode_a = ScaleModeA::kGroup128;
  ScaleModeB mode_b = ScaleModeB::kBlock128;
  DType out = DType::kBFloat16;
  bool fast_accum = false;  // the configs' fast_accum (modes without 128-wide scales only)
};

// Every valid config of `space`, in a stable order: nested loops block_m, block_n, stages,
// consumer_warpgroups, cluster_m, cluster_n, group_size_m (outermost first) in the lists' order; a duplicate
// (a value listed twice) is kept once, at its first position. The default space holds
// kDefaultGemmSearchSpaceSize configs (tests pin it): of the declared, the space drops rings deeper
// than 8 for block_m > 64 and decode tiles of block_m 16 / 32 wider than 128; the rules drop 16, 32
// and 64 x 2 warpgroups and 256 x 1 (block_m), decode tiles in a cluster along N or with a B ring
// too short for the wgmma's 64-row read, block_n 176 and 208-240 (B-scale span), block_n > 192 with 64 rows
// per warpgroup and > 128 with 128 (> 112 where the tile straddles two B scale blocks; registers),
// deep rings of wide tiles (shared memory) and 4-CTA clusters (cluster_m = cluster_n = 2).
std::vector<GemmConfig> gemm_search_space(const GemmSearchSpace& space = {});
constexpr std::size_t kDefaultGemmSearchSpaceSize = 915;

// The tuner's split-K variants of `c` for `shape` (issue 13): split_k 2..kTuneMaxSplitK where the
// tile's units still fit one wave of `sm_count` and every split keeps kTuneMinSplitKBlocks K blocks,
// each through the workspace and as a split cluster; none for a cluster or where the tiles alone
// fill half the SMs.
inline constexpr int kTuneMaxSplitK = 8, kTuneMinSplitKBlocks = 8;
std::vector<GemmConfig> split_k_variants(const GemmConfig& c, const GemmShape& shape, int sm_count);

}  // namespace fp8kit

template <>
struct std::hash<fp8kit::GemmConfig> {
  std::size_t operator()(const fp8kit::GemmConfig& config) const noexcept;
};
