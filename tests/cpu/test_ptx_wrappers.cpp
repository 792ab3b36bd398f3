// The fp8kit/ptx wrappers compile under NVRTC (no include path) for sm_90a without spills: every
// wgmma N variant the GEMM search space uses, and a kernel in the GEMM's shape that calls every
// wrapper. This proves the PTX assembles; whether it computes the right thing needs a GPU.
#include <gtest/gtest.h>

#include <set>
#include <string>
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
        ptx::wgmma_m64k32_e4m3<128>(acc, ptx::wgmma_desc_add(da, 32 * k), ptx::wgmma_desc_add(db, 32 * k), true);
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
