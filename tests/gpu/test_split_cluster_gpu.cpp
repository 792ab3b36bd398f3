// Split-K inside a cluster (GemmConfig::split_cluster, issue 13): the split_k CTAs of a tile sum
// their partials through distributed shared memory. It must be exact (the CPU reference), give the
// workspace path's bits on any input (the same partials summed in the same order), give the same
// bits every run, and need no workspace inside a CUDA graph capture.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "jit/kernel_loader.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

// Tiles that split: 16- and 32-row decode tiles, a 64-row tile and a two-warpgroup 128-row tile.
struct SplitCase {
  int block_m, block_n, stages, warpgroups, split;
};
constexpr SplitCase kCases[] = {{16, 64, 16, 1, 3}, {16, 32, 12, 1, 8}, {32, 112, 8, 1, 2}, {64, 32, 8, 1, 7},
                                {128, 128, 4, 2, 2}};

GemmConfig split_config(const SplitCase& k, ScaleModeA ma, ScaleModeB mb, DType out, int in_cluster) {
  GemmConfig c = test::gemm_config(k.block_m, k.block_n, k.stages, k.warpgroups);
  c.mode_a = ma;
  c.mode_b = mb;
  c.out = out;
  c.split_k = k.split;
  c.split_cluster = in_cluster;
  return c;
}

// Inputs whose sums round: any E4M3 code of magnitude at most 2 (0x40), scales in [0.5, 2) (the
// exact problem's layout, NaN padding kept), so "the same bits" compares the order of every fp32
// addition, and sums of 7168 products stay well inside fp16.
Problem rounding_problem(GemmShape s, ScaleModeA ma, ScaleModeB mb, std::mt19937_64& rng) {
  Problem p = exact_problem(s, ma, mb, rng);
  std::uniform_int_distribution<int> magnitude(0, 0x40), sign(0, 1);
  for (auto* v : {&p.a, &p.b}) {
    for (auto& c : *v) c = static_cast<std::uint8_t>(magnitude(rng) | sign(rng) << 7);
  }
  std::uniform_real_distribution<float> scale(0.5f, 2.0f);
  for (auto* v : {&p.scale_a, &p.scale_b}) {
    for (auto& x : *v) {
      if (!std::isnan(x)) x = scale(rng);
    }
  }
  return p;
}

// Every scale pair and out dtype on the first tile; every tile on two pairs (each config is a kernel
// to compile, twice with its workspace twin).
bool covers(const SplitCase& k, ScaleModeA ma, ScaleModeB mb, DType out) {
  if (&k == &kCases[0]) return true;
  return (ma == ScaleModeA::kGroup128 && mb == ScaleModeB::kBlock128 && out == DType::kBFloat16) ||
         (ma == ScaleModeA::kToken && mb == ScaleModeB::kChannel && out == DType::kFloat32);
}

TEST(SplitClusterGpu, ExactAndTheWorkspacePathsBits) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit split cluster"));
  cuda::Stream stream;
  int runs = 0;
  const std::vector<GemmShape> shapes =
      under_sanitizer() ? std::vector<GemmShape>{{40, 272, 1152}}
                        : std::vector<GemmShape>{{1, 576, 7168}, {40, 272, 1152}, {130, 400, 2048}};
  for (const GemmShape& s : shapes) {
    for (ScaleModeA ma : kModesA) {
      for (ScaleModeB mb : kModesB) {
        const Problem exact = exact_problem(s, ma, mb, rng);
        const Problem rounding = rounding_problem(s, ma, mb, rng);
        for (DType out : kOuts) {
          const std::optional<DType> bias = out == DType::kFloat16 ? std::nullopt : std::optional<DType>{out};
          const std::vector<float> bias_values = bias ? small_int_bias(s.n, rng) : std::vector<float>{};
          const auto want = cpu_reference(exact, out, bias_values);
          DeviceProblem de(exact, out, bias, bias_values);
          DeviceProblem dr(rounding, out, bias, bias_values);
          for (const SplitCase& k : kCases) {
            const GemmConfig c = split_config(k, ma, mb, out, 1);
            if (!covers(k, ma, mb, out) || !is_valid(c, s)) continue;
            const std::string what = fmt::format("{} M={} N={} K={}", kernel_name(c), s.m, s.n, s.k);
            const auto got = de.run_config(exact, c, stream.get());
            EXPECT_TRUE(same_bits(want, got, s.n, out)) << what;
            const auto clustered = dr.run_config(rounding, c, stream.get());
            EXPECT_EQ(clustered, dr.run_config(rounding, c, stream.get())) << "second run differs: " << what;
            EXPECT_EQ(clustered, dr.run_config(rounding, split_config(k, ma, mb, out, 0), stream.get()))
                << "not the workspace path's bits: " << what;
            ++runs;
          }
        }
      }
    }
  }
  std::printf("split cluster: %d configs x problems\n", runs);
  EXPECT_GT(runs, under_sanitizer() ? 20 : 60);
}

// No workspace: captured on a stream that never ran a split (the workspace path would run unsplit
// there), the split cluster still splits and replays the direct call's bits, the workspace path's.
TEST(SplitClusterGpu, ReplaysInACudaGraphWithoutAWorkspace) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit split cluster graph"));
  const GemmShape s{16, 640, 7168};
  const Problem p = rounding_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
  DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
  const GemmConfig c = split_config({16, 64, 16, 1, 4}, p.mode_a, p.mode_b, DType::kBFloat16, 1);
  ASSERT_TRUE(is_valid(c, s)) << to_string(c);
  cuda::Stream stream, fresh;
  const auto direct = d.run_config(p, c, stream.get());  // loads the kernel outside the capture
  GemmConfig workspace = c;
  workspace.split_cluster = 0;
  EXPECT_EQ(direct, d.run_config(p, workspace, stream.get())) << "not the workspace path's bits";
  d.out.fill_bytes(0xFF);
  cuda::Graph g = cuda::Graph::capture(fresh.get(), [&] {
    ops::fp8kit_scaled_mm(d.va, d.vb, p.mode_a, d.vsa, p.mode_b, d.vsb, d.vout, std::nullopt, fresh.get(), c);
  });
  g.launch(fresh.get());
  g.launch(fresh.get());
  FP8KIT_CUDA_CHECK(cudaStreamSynchronize(fresh.get()));
  std::vector<std::uint8_t> replay(direct.size());
  d.out.download(replay.data(), replay.size());
  EXPECT_EQ(replay, direct);
}

// How many split clusters fit at once (a cluster stays within one GPC), for the heuristic's rule
// (clusters of 2 always, 3-4 on at most 85% of the SMs; 2026-12-05's A/B lost 0.62-0.81x where
// the grid's clusters did not fit): printed per cluster size for two decode tiles, one CTA an SM.
TEST(SplitClusterGpu, ReportsHowManyClustersFitAtOnce) {
  const cuda::DeviceInfo device = cuda::current_device_info();
  for (const SplitCase& tile : {SplitCase{16, 32, 8, 1, 0}, SplitCase{64, 32, 8, 1, 0}}) {
    std::printf("m%dn%d s%d, %d SMs: clusters that fit at once by size:", tile.block_m, tile.block_n, tile.stages,
                device.sm_count);
    for (int split = 2; split <= 8; ++split) {
      const GemmConfig c = split_config({tile.block_m, tile.block_n, tile.stages, tile.warpgroups, split},
                                        ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, 1);
      ASSERT_TRUE(is_valid(c)) << to_string(c);
      const jit::LoadedKernel& kernel = jit::load_kernel(ops::sm90_fp8_gemm_source(c));
      const auto smem = static_cast<std::size_t>(gemm_smem_layout(c).total);
      kernel.set_max_dynamic_smem(smem);
      const int clusters = kernel.max_active_clusters(split, dim3(static_cast<unsigned>(gemm_threads(c))), smem);
      std::printf(" %d: %d (%d SMs)", split, clusters, clusters * split);
      EXPECT_GE(clusters, 1) << to_string(c);
      EXPECT_LE(clusters * split, device.sm_count) << to_string(c);
    }
    std::printf("\n");
  }
}

}  // namespace
}  // namespace fp8kit
