// The fp8kit/ptx wrappers compile under NVRTC (no include path) for sm_90a without spills: every
// wgmma N variant the GEMM search space uses, and a kernel in the GEMM's shape that calls every
// wrapper. This proves the PTX assembles; whether it computes the right thing needs a GPU.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "common/test_util.hpp"
#include "cpu/jit_checks.hpp"
#include "core/gemm_config.hpp"
#include "fp8kit/types.hpp"
#include "jit/compiler.hpp"

namespace fp8kit::jit {
namespace {

using test::TempDir;

// One warpgroup: a 128-wide K block as 4 wgmma k32 steps, descriptors moving 32 bytes each.
KernelSource wgmma_kernel(int n) {
  return {fmt::format("test_wgmma_m64n{}k32_e4m3", n), fmt::format(R"(#include <fp8kit/ptx/wgmma.cuh>
extern "C" __global__ void __launch_bounds__(128, 1) fp8kit_entry(float* out) {{
  using namespace fp8kit;
  extern __shared__ __align__(1024) u8 smem[];
  const u64 da = ptx::wgmma_desc_k_major_sw128(smem);            // (64, 128) e4m3
  const u64 db = ptx::wgmma_desc_k_major_sw128(smem + 64 * 128);  // ({0}, 128) e4m3
  float d[{0} / 2];
#pragma unroll
  for (int i = 0; i < {0} / 2; ++i) d[i] = 0.0f;
  ptx::wgmma_fence_operands(d);
  ptx::wgmma_fence();
#pragma unroll
  for (int k = 0; k < 4; ++k) {{
    ptx::wgmma_m64k32_e4m3<{0}>(d, ptx::wgmma_desc_advance(da, 32 * k), ptx::wgmma_desc_advance(db, 32 * k), k > 0);
  }}
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::wgmma_fence_operands(d);
#pragma unroll
  for (int i = 0; i < {0} / 2; ++i) out[i * 128 + threadIdx.x] = d[i];
}}
)",
                                                                   n)};
}

// The GEMM's skeleton: producer warpgroup (setmaxnreg.dec, TMA loads with and without multicast),
// two consumer warpgroups (setmaxnreg.inc, mbarrier waits, wgmma, cluster arrive, TMA store).
KernelSource pipeline_kernel() {
  return {"test_ptx_pipeline", R"(#include <fp8kit/ptx/cluster.cuh>
#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>
extern "C" __global__ void __launch_bounds__(384, 1)
    fp8kit_entry(const __grid_constant__ fp8kit::CUtensorMapOpaque map_a,
                 const __grid_constant__ fp8kit::CUtensorMapOpaque map_b,
                 const __grid_constant__ fp8kit::CUtensorMapOpaque map_d, int k_blocks) {
  using namespace fp8kit;
  constexpr int kStages = 4;
  extern __shared__ __align__(1024) u8 smem[];
  u8* tile_a = smem;                              // (128, 128, kStages) e4m3
  u8* tile_b = tile_a + kStages * 128 * 128;      // (128, 128, kStages) e4m3
  u8* tile_d = tile_b + kStages * 128 * 128;      // (128, 128) bf16
  u64* full = reinterpret_cast<u64*>(tile_d + 128 * 128 * 2);
  u64* empty = full + kStages;
  if (threadIdx.x == 0) {
    ptx::tma_prefetch_descriptor(&map_a);
    ptx::tma_prefetch_descriptor(&map_b);
    for (int s = 0; s < kStages; ++s) {
      ptx::mbarrier_init(&full[s], 1);
      ptx::mbarrier_init(&empty[s], 2 * ptx::cluster_num_ctas());
    }
    ptx::fence_mbarrier_init();
  }
  ptx::cluster_sync();
  const u32 rank = ptx::cluster_cta_rank();
  if (ptx::warpgroup_index() == 0) {
    ptx::setmaxnreg_dec<40>();
    if (ptx::warp_index_in_warpgroup() == 0 && ptx::elect_one_sync()) {
      for (int kb = 0; kb < k_blocks; ++kb) {
        const int s = kb % kStages;
        ptx::mbarrier_wait_parity(&empty[s], ((kb / kStages) & 1) ^ 1);
        ptx::mbarrier_arrive_expect_tx(&full[s], 2 * 128 * 128);
        ptx::tma_load_2d(tile_a + s * 128 * 128, &map_a, &full[s], kb * 128, static_cast<i32>(blockIdx.x) * 128);
        ptx::tma_load_2d_multicast(tile_b + s * 128 * 128 + rank * 64 * 128, &map_b, &full[s], kb * 128,
                                   static_cast<i32>(blockIdx.y) * 128 + static_cast<i32>(rank) * 64,
                                   static_cast<u16>(0x3));
      }
    }
  } else {
    ptx::setmaxnreg_inc<232>();
    const int wg = ptx::warpgroup_index() - 1;
    float acc[64];
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[i] = 0.0f;
    for (int kb = 0; kb < k_blocks; ++kb) {
      const int s = kb % kStages;
      ptx::mbarrier_wait_parity(&full[s], (kb / kStages) & 1);
      const u64 da = ptx::wgmma_desc_k_major_sw128(tile_a + s * 128 * 128 + wg * 64 * 128);
      const u64 db = ptx::wgmma_desc_k_major_sw128(tile_b + s * 128 * 128);
      ptx::wgmma_fence_operands(acc);
      ptx::wgmma_fence();
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        ptx::wgmma_m64k32_e4m3<128>(acc, ptx::wgmma_desc_advance(da, 32 * k), ptx::wgmma_desc_advance(db, 32 * k), true);
      }
      ptx::wgmma_commit_group();
      ptx::wgmma_wait_group<0>();
      ptx::wgmma_fence_operands(acc);
      if (ptx::thread_index_in_warpgroup() == 0) {
        for (u32 peer = 0; peer < ptx::cluster_num_ctas(); ++peer) ptx::mbarrier_arrive_cluster(&empty[s], peer);
      }
    }
    float* staged = reinterpret_cast<float*>(tile_d);
#pragma unroll
    for (int i = 0; i < 64; ++i) staged[(i * 256 + static_cast<int>(threadIdx.x) - 128) % (128 * 64)] = acc[i];
    ptx::fence_proxy_async_shared();
    ptx::named_barrier_sync(1, 256);
    if (threadIdx.x == 128) {
      ptx::tma_store_2d(&map_d, tile_d, static_cast<i32>(blockIdx.y) * 128, static_cast<i32>(blockIdx.x) * 128);
      ptx::tma_store_commit_group();
      ptx::tma_store_wait_read<0>();
    }
  }
  ptx::cluster_sync();
}
)"};
}

// A consumer in the shape issue 5's kernel will take (see core/gemm_config.hpp's header comment):
// TMA ring, per-64-row-slice promotion with a B scale chosen per column (a tile may span two B
// scale blocks), bf16 epilogue through shared memory and a TMA store. Not the kernel: a stand-in
// that makes ptxas allocate registers the way the kernel will, so the register rule is measured.
KernelSource register_skeleton(const GemmConfig& c) {
  return {"skeleton_" + kernel_name(c), fmt::format(R"(#include <fp8kit/ptx/fence.cuh>
#include <fp8kit/ptx/mbarrier.cuh>
#include <fp8kit/ptx/tma.cuh>
#include <fp8kit/ptx/warpgroup.cuh>
#include <fp8kit/ptx/wgmma.cuh>
namespace {{
constexpr int kBM = {0}, kBN = {1}, kWG = {2}, kStages = {3}, kBudget = {4};
constexpr bool kPromoted = {5};
constexpr int kRows = kBM / kWG, kSlices = kRows / 64, kAcc = kBN / 2;
}}
extern "C" __global__ void __launch_bounds__(128 * (kWG + 1), 1)
    fp8kit_entry(const __grid_constant__ fp8kit::CUtensorMapOpaque map_a,
                 const __grid_constant__ fp8kit::CUtensorMapOpaque map_b,
                 const __grid_constant__ fp8kit::CUtensorMapOpaque map_sa,
                 const __grid_constant__ fp8kit::CUtensorMapOpaque map_d, const float* scale_a,
                 const float* scale_b, int k_blocks, int sb_ld, int n_split) {{
  using namespace fp8kit;
  extern __shared__ __align__(1024) u8 smem[];
  u8* tile_a = smem;                                             // (kBM, 128, kStages) e4m3
  u8* tile_b = tile_a + kStages * kBM * 128;                     // (kBN, 128, kStages) e4m3
  u8* tile_d = tile_b + kStages * kBN * 128;                     // (kBM, kBN) bf16
  float* sa = reinterpret_cast<float*>(tile_d + kBM * kBN * 2);  // (kBM, kStages) fp32
  float* sb = sa + kStages * kBM;                                // (4, kStages) fp32
  u64* full = reinterpret_cast<u64*>(sb + kStages * 4);
  u64* empty = full + kStages;
  if (threadIdx.x == 0) {{
    for (int s = 0; s < kStages; ++s) {{
      ptx::mbarrier_init(&full[s], 2);
      ptx::mbarrier_init(&empty[s], kWG);
    }}
    ptx::fence_mbarrier_init();
  }}
  __syncthreads();
  if (ptx::warpgroup_index() == 0) {{
    ptx::setmaxnreg_dec<40>();
    if (ptx::warp_index_in_warpgroup() == 0 && ptx::elect_one_sync()) {{
      for (int kb = 0; kb < k_blocks; ++kb) {{
        const int s = kb % kStages;
        ptx::mbarrier_wait_parity(&empty[s], ((kb / kStages) & 1) ^ 1);
        sb[s * 4] = scale_b[blockIdx.y * sb_ld + kb];
        sb[s * 4 + 1] = scale_b[(blockIdx.y + 1) * sb_ld + kb];
        ptx::mbarrier_arrive(&full[s]);
        ptx::mbarrier_arrive_expect_tx(&full[s], (kBM + kBN) * 128 + kBM * 4);
        ptx::tma_load_2d(tile_a + s * kBM * 128, &map_a, &full[s], kb * 128, static_cast<i32>(blockIdx.x) * kBM);
        ptx::tma_load_2d(tile_b + s * kBN * 128, &map_b, &full[s], kb * 128, static_cast<i32>(blockIdx.y) * kBN);
        ptx::tma_load_2d(sa + s * kBM, &map_sa, &full[s], static_cast<i32>(blockIdx.x) * kBM, kb);
      }}
    }}
  }} else {{
    ptx::setmaxnreg_inc<kBudget>();
    const int wg = ptx::warpgroup_index() - 1;
    const int lane = static_cast<int>(threadIdx.x) % 32, warp = ptx::warp_index_in_warpgroup();
    float acc[kSlices][kAcc];
#pragma unroll
    for (int m = 0; m < kSlices; ++m)
#pragma unroll
      for (int i = 0; i < kAcc; ++i) acc[m][i] = 0.0f;
    for (int kb = 0; kb < k_blocks; ++kb) {{
      const int s = kb % kStages;
      ptx::mbarrier_wait_parity(&full[s], (kb / kStages) & 1);
      const u64 db = ptx::wgmma_desc_k_major_sw128(tile_b + s * kBN * 128);
      if constexpr (kPromoted) {{
        const float sb0 = sb[s * 4], sb1 = sb[s * 4 + 1];
#pragma unroll
        for (int m = 0; m < kSlices; ++m) {{
          float scratch[kAcc];  // one 128-wide K block of one 64-row slice, then promoted
          const u64 da = ptx::wgmma_desc_k_major_sw128(tile_a + s * kBM * 128 + (wg * kRows + m * 64) * 128);
          ptx::wgmma_fence_operands(scratch);
          ptx::wgmma_fence();
#pragma unroll
          for (int k = 0; k < 4; ++k) {{
            ptx::wgmma_m64k32_e4m3<kBN>(scratch, ptx::wgmma_desc_advance(da, 32 * k), ptx::wgmma_desc_advance(db, 32 * k),
                                        k > 0);
          }}
          ptx::wgmma_commit_group();
          ptx::wgmma_wait_group<0>();
          ptx::wgmma_fence_operands(scratch);
          const int r0 = wg * kRows + m * 64 + warp * 16 + lane / 4;
          const float sa0 = sa[s * kBM + r0], sa1 = sa[s * kBM + r0 + 8];
#pragma unroll
          for (int i = 0; i < kAcc; ++i) {{
            const int col = (i / 4) * 8 + (lane % 4) * 2 + (i % 2);
            acc[m][i] += ((i / 2) % 2 ? sa1 : sa0) * (col < n_split ? sb0 : sb1) * scratch[i];
          }}
        }}
      }} else {{
#pragma unroll
        for (int m = 0; m < kSlices; ++m) ptx::wgmma_fence_operands(acc[m]);
        ptx::wgmma_fence();
#pragma unroll
        for (int m = 0; m < kSlices; ++m) {{
          const u64 da = ptx::wgmma_desc_k_major_sw128(tile_a + s * kBM * 128 + (wg * kRows + m * 64) * 128);
#pragma unroll
          for (int k = 0; k < 4; ++k) {{
            ptx::wgmma_m64k32_e4m3<kBN>(acc[m], ptx::wgmma_desc_advance(da, 32 * k), ptx::wgmma_desc_advance(db, 32 * k),
                                        true);
          }}
        }}
        ptx::wgmma_commit_group();
        ptx::wgmma_wait_group<0>();
#pragma unroll
        for (int m = 0; m < kSlices; ++m) ptx::wgmma_fence_operands(acc[m]);
      }}
      if (ptx::thread_index_in_warpgroup() == 0) ptx::mbarrier_arrive(&empty[s]);
    }}
    u16* d = reinterpret_cast<u16*>(tile_d);
#pragma unroll
    for (int m = 0; m < kSlices; ++m) {{
#pragma unroll
      for (int i = 0; i < kAcc; ++i) {{
        const int row = wg * kRows + m * 64 + warp * 16 + lane / 4 + 8 * ((i / 2) % 2);
        const int col = (i / 4) * 8 + (lane % 4) * 2 + (i % 2);
        float v = acc[m][i];
        if constexpr (!kPromoted) v *= scale_a[blockIdx.x * kBM + row] * scale_b[blockIdx.y * kBN + col];
        u16 bits;
        asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(v));
        d[row * kBN + col] = bits;
      }}
    }}
    ptx::fence_proxy_async_shared();
    ptx::named_barrier_sync(1, 128 * kWG);
    if (threadIdx.x == 128) {{
      ptx::tma_store_2d(&map_d, tile_d, static_cast<i32>(blockIdx.y) * kBN, static_cast<i32>(blockIdx.x) * kBM);
      ptx::tma_store_commit_group();
      ptx::tma_store_wait_all<0>();
    }}
  }}
}}
)",
                                                    c.block_m, c.block_n, c.consumer_warpgroups, c.stages,
                                                    consumer_register_budget(c.consumer_warpgroups),
                                                    gemm_needs_promotion(c) ? "true" : "false")};
}

bool is_elf(const std::string& bytes) { return bytes.size() > 4 && bytes.compare(0, 4, "\x7f" "ELF") == 0; }

// ptxas reports (at "info" level, so -Werror misses them) that mean a wrapper silently lost its
// point; each was seen to appear in the log for a kernel built to provoke it.
TEST(PtxWrappers, EveryWgmmaNOfTheSearchSpaceCompiles) {
  std::set<int> widths;
  for (const GemmConfig& c : gemm_search_space()) widths.insert(c.block_n);
  GemmSearchSpace unpromoted;  // wider tiles fit without promotion
  unpromoted.mode_a = ScaleModeA::kTensor;
  unpromoted.mode_b = ScaleModeB::kTensor;
  for (const GemmConfig& c : gemm_search_space(unpromoted)) widths.insert(c.block_n);
  for (int n = 16; n <= 256; n += 16) widths.insert(n);  // every variant the header declares
  ASSERT_EQ(widths.size(), 16u);

  std::vector<KernelSource> sources;
  for (int n : widths) sources.push_back(wgmma_kernel(n));
  TempDir dir;
  const KernelCompiler compiler(strict_options(dir));
  const auto compiled = compiler.compile_all(sources, 2);
  ASSERT_EQ(compiled.size(), sources.size());
  auto n_it = widths.begin();
  for (const CompiledKernel& k : compiled) {
    const int n = *n_it++;
    EXPECT_TRUE(is_elf(k.cubin)) << k.name;
    // The accumulators are bound to registers: at least N / 2 of them, none spilled.
    EXPECT_GE(k.usage.registers, n / 2) << k.name << "\n" << k.log;
    EXPECT_FALSE(k.usage.spills()) << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.log;
    expect_no_lost_features(k);
  }
}

TEST(PtxWrappers, PipelineSkeletonCompilesWithSetmaxnreg) {
  TempDir dir;
  const KernelCompiler compiler(strict_options(dir));
  const CompiledKernel k = compiler.compile(pipeline_kernel());
  EXPECT_TRUE(is_elf(k.cubin));
  EXPECT_GT(k.usage.registers, 0) << k.log;
  // 384 threads, one block per SM: the entry cap is 65536 / 384 rounded down to 8 = 168.
  EXPECT_LE(k.usage.registers, 168) << k.log;
  EXPECT_FALSE(k.usage.spills()) << k.log;
  EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.log;
  expect_no_lost_features(k);
}

// The register rule of core/gemm_config.hpp, measured: for each scale kind (promoted or not) and
// (block_m, warpgroups), the two widest accepted block_n (the binding ones: pressure grows with
// the width) and the narrowest compile without spills at the setmaxnreg budget. A config far over
// the budget does spill, so the check can fail.
TEST(PtxWrappers, RegisterRuleHoldsOnAConsumerSkeleton) {
  GemmSearchSpace promoted;  // group128 x block128
  GemmSearchSpace unpromoted;
  unpromoted.mode_a = ScaleModeA::kToken;
  unpromoted.mode_b = ScaleModeB::kChannel;
  std::map<std::tuple<bool, int, int>, std::vector<GemmConfig>> by_shape;  // ascending block_n
  for (const GemmSearchSpace& space : {promoted, unpromoted}) {
    for (const GemmConfig& c : gemm_search_space(space)) {
      // Tiles admitted only by the real kernel's promotion savings (m256n128, m128n192) are the real
      // kernel's, not the skeleton's: Fp8kitGemmSource.* compiles them.
      if (gemm_needs_promotion(c) && consumer_registers_needed(c) + kKernelPromotionSavings > consumer_register_budget(c.consumer_warpgroups)) {
        continue;
      }
      auto& list = by_shape[{gemm_needs_promotion(c), c.block_m, c.consumer_warpgroups}];
      if (list.empty() || list.back().block_n != c.block_n) list.push_back(c);
    }
  }
  ASSERT_EQ(by_shape.size(), 8u);
  std::vector<KernelSource> sources;
  for (const auto& [shape, list] : by_shape) {
    ASSERT_GE(list.size(), 3u);
    for (const GemmConfig* c : {&list.front(), &list[list.size() - 2], &list.back()}) {
      sources.push_back(register_skeleton(*c));
    }
  }
  GemmConfig over;  // 128 + 128 + 24 + 32 - 16 = 296 needed, 232 there
  over.block_n = 256;
  over.mode_b = ScaleModeB::kChannel;
  ASSERT_FALSE(is_valid(over));
  sources.push_back(register_skeleton(over));

  TempDir dir;
  JitOptions lenient = strict_options(dir);
  lenient.fail_on_spill = false;  // judged here, per kernel, so a failure names the config
  const auto compiled = KernelCompiler(lenient).compile_all(sources, 2);
  ASSERT_EQ(compiled.size(), sources.size());
  for (std::size_t i = 0; i + 1 < compiled.size(); ++i) {
    const CompiledKernel& k = compiled[i];
    EXPECT_FALSE(k.usage.spills()) << k.name << " spills: the register rule accepts too much\n" << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.name << "\n" << k.log;
    expect_no_lost_features(k);
  }
  EXPECT_TRUE(compiled.back().usage.spills()) << compiled.back().log;
}

// The checks above can fail: kernels that break the rules get exactly those reports in the log.
TEST(PtxWrappers, LostFeaturesShowInTheLog) {
  TempDir dir;
  JitOptions lenient = strict_options(dir);
  lenient.fail_on_spill = false;
  const KernelCompiler compiler(lenient);
  const KernelSource no_cap{"test_setmaxnreg_without_cap", R"(#include <fp8kit/ptx/warpgroup.cuh>
extern "C" __global__ void fp8kit_entry(int* p) {  // no __launch_bounds__(threads, 1)
  if (fp8kit::ptx::warpgroup_index() == 0) {
    fp8kit::ptx::setmaxnreg_dec<40>();
    p[threadIdx.x] = 1;
  } else {
    fp8kit::ptx::setmaxnreg_inc<232>();
    p[threadIdx.x] = 2;
  }
}
)"};
  EXPECT_NE(compiler.compile(no_cap).log.find("C7508"), std::string::npos);
  const KernelSource touched{"test_wgmma_accumulator_touched", R"(#include <fp8kit/ptx/wgmma.cuh>
extern "C" __global__ void fp8kit_entry(float* out) {
  using namespace fp8kit;
  extern __shared__ __align__(1024) u8 smem[];
  const u64 desc = ptx::wgmma_desc_k_major_sw128(smem);
  float d[64];
  for (int i = 0; i < 64; ++i) d[i] = out[i];
  ptx::wgmma_fence();
  ptx::wgmma_m64k32_e4m3<128>(d, desc, desc, true);
  d[3] += 1.0f;  // an ordinary write between two wgmmas of one group
  ptx::wgmma_m64k32_e4m3<128>(d, desc, desc, true);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  for (int i = 0; i < 64; ++i) out[i * 128 + threadIdx.x] = d[i];
}
)"};
  const std::string log = compiler.compile(touched).log;
  EXPECT_NE(log.find("is injected"), std::string::npos) << log;
  EXPECT_NE(log.find("serialized"), std::string::npos) << log;
}

TEST(PtxWrappers, AnUninstantiatedWgmmaNIsACompileError) {
  TempDir dir;
  const KernelCompiler compiler(strict_options(dir));
  for (int n : {24, 272}) {
    try {
      compiler.compile(wgmma_kernel(n));
      ADD_FAILURE() << "wgmma N = " << n << " compiled";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("fp8kit instantiates wgmma N = 16..256 step 16"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace fp8kit::jit
