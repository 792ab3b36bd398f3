// Backend fp8kit (the own Hopper TMA + WGMMA GEMM) on the GPU (DESIGN.md §6): the exact
// tier against the CPU reference over a representative set of configs and shapes (ragged M and
// N, M = 1 ... 4096, K up to 18432), the tight tier against the reference kernel and cuBLASLt on
// identical large inputs, every scale pair and out dtype with bias, NaN-poisoned outputs, and every
// run twice for identical bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/gemm_config_builder.hpp"
#include "core/gemm_config.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

GemmConfig block_config(int bm, int bn, int stages, int wg, int cluster, DType out = DType::kBFloat16) {
  GemmConfig c = test::gemm_config(bm, bn, stages, wg, cluster);
  c.out = out;
  return c;
}

// The same config with its two CTAs along N (A multicast) instead.
GemmConfig along_n(GemmConfig c) {
  c.cluster_m = 1;
  c.cluster_n = 2;
  return c;
}

std::string describe(const GemmConfig& c, const GemmShape& s) {
  return fmt::format("{} M={} N={} K={}", kernel_name(c), s.m, s.n, s.k);
}

// Runs `c` on `p` twice against `want`: bit-exact, and the same bits both times.
void expect_exact(DeviceProblem& d, const Problem& p, const GemmConfig& c, const std::vector<std::uint8_t>& want,
                  cudaStream_t stream) {
  const auto got = d.run_config(p, c, stream);
  EXPECT_TRUE(same_bits(want, got, p.s.n, c.out)) << describe(c, p.s);
  EXPECT_EQ(got, d.run_config(p, c, stream)) << "second run differs: " << describe(c, p.s);
}

// The representative configs: both warpgroup layouts, narrow / straddling / wide tiles, shallow
// and deep rings, clusters with B multicast (along M) and A multicast (along N), overlapped and
// serial promotion (gemm_overlaps_promotion), one and two store passes, decode tiles of 16 and 32 rows.
std::vector<GemmConfig> representative_configs() {
  return {block_config(64, 128, 4, 1, 1),   block_config(64, 32, 2, 1, 1),   block_config(64, 160, 6, 1, 1),
          block_config(128, 128, 4, 2, 1),  block_config(128, 144, 4, 2, 1), block_config(128, 64, 8, 2, 2),
          block_config(128, 112, 5, 2, 2),  block_config(256, 112, 3, 2, 1), block_config(128, 16, 3, 1, 1),
          block_config(256, 96, 4, 2, 2),   block_config(256, 128, 3, 2, 1), block_config(128, 128, 6, 2, 1),
          block_config(128, 128, 4, 1, 1),  along_n(block_config(256, 128, 3, 2, 1)),
          along_n(block_config(128, 112, 5, 2, 1)), along_n(block_config(64, 48, 4, 1, 1)),
          along_n(block_config(128, 128, 6, 2, 1)),
          // decode tiles: 16 / 32 rows loaded, the wgmma's other rows discarded; deep rings
          block_config(16, 64, 16, 1, 1),   block_config(32, 112, 8, 1, 2),  block_config(16, 16, 3, 1, 1)};
}

TEST(Fp8kitGemmGpu, ExactTierOverConfigsAndShapes) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit gemm exact tier"));
  cuda::Stream stream;
  const std::vector<GemmShape> shapes = under_sanitizer()
                                            ? std::vector<GemmShape>{{65, 576, 512}, {1, 256, 1024}}
                                            : std::vector<GemmShape>{{1, 576, 7168},   {3, 256, 384},
                                                                     {64, 320, 1024},  {65, 576, 512},
                                                                     {128, 1536, 256}, {1000, 528, 1152},
                                                                     {4096, 512, 640}, {256, 144, 18432}};
  int runs = 0;
  for (const GemmShape& s : shapes) {
    const Problem p = exact_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
    const auto want = cpu_reference(p, DType::kBFloat16, {});
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    for (const GemmConfig& c : representative_configs()) {
      if (!is_valid(c, s)) continue;  // a 2-CTA cluster needs an even number of tiles along its axis
      expect_exact(d, p, c, want, stream.get());
      ++runs;
    }
    // The default heuristic's choice, through the public entry point.
    EXPECT_TRUE(same_bits(want, d.run(p, GemmBackend::kFp8kit, stream.get()), s.n, DType::kBFloat16))
        << "default config, M=" << s.m << " N=" << s.n << " K=" << s.k;
  }
  std::printf("exact tier: %d (config, shape) runs\n", runs);
}

// Every scale pair x out dtype x bias dtype (the unpromoted pairs accumulate on the tensor cores:
// {-1, 0, 1} inputs keep that exact), ragged M and N.
TEST(Fp8kitGemmGpu, EveryScalePairOutAndBiasMatchesCpuReference) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit gemm pairs"));
  cuda::Stream stream;
  const GemmShape s{77, 272, 640};
  int runs = 0;
  for (ScaleModeA ma : kModesA) {
    for (ScaleModeB mb : kModesB) {
      const Problem p = exact_problem(s, ma, mb, rng);
      for (DType out : kOuts) {
        for (std::optional<DType> bias : {std::optional<DType>{}, std::optional<DType>{DType::kFloat32},
                                          std::optional<DType>{DType::kBFloat16}}) {
          const std::vector<float> bias_values = bias ? small_int_bias(s.n, rng) : std::vector<float>{};
          const auto want = cpu_reference(p, out, bias_values);
          DeviceProblem d(p, out, bias, bias_values);
          for (const GemmConfig& base : {block_config(64, 144, 4, 1, 1), block_config(128, 96, 3, 2, 1)}) {
            GemmConfig c = base;
            c.mode_a = ma;
            c.mode_b = mb;
            c.out = out;
            expect_exact(d, p, c, want, stream.get());
            ++runs;
            if (!promoted(ma, mb)) {  // and the tensor cores' accumulation over all of K
              c.fast_accum = true;
              expect_exact(d, p, c, want, stream.get());
              ++runs;
            }
          }
          for (bool fast : {false, true}) {
            if (fast && promoted(ma, mb)) continue;
            EXPECT_TRUE(same_bits(want, d.run(p, GemmBackend::kFp8kit, stream.get(), fast), s.n, out))
                << "default config " << scale_mode_name(ma) << " x " << scale_mode_name(mb) << " fast " << fast;
          }
        }
      }
    }
  }
  std::printf("scale pairs: %d runs\n", runs);
}

// The exact path of the pairs without 128-wide scales (issue 13): each K block's sum is promoted
// into fp32. The first K block puts 448 x 448 x 128 = 2^19 x 49 (about 2^24.6) in every output,
// the other 63 add even integers (a in {0, 2, 4}, b in [0, 4]): every fp32 sum stays exact (the
// ulp there is 2), but an accumulator that aligns the small products to the large running sum
// (the tensor cores' over all of K) drops them. The exact path must keep every bit; the fast path
// is measured beside it and printed, not required exact.
TEST(Fp8kitGemmGpu, ExactAccumulationKeepsLongSumsExact) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit exact accumulation"));
  cuda::Stream stream;
  const GemmShape s{64, 256, 8192};
  std::uniform_int_distribution<int> half_a(0, 2), val_b(0, 4);
  for (ScaleModeA ma : {ScaleModeA::kTensor, ScaleModeA::kToken}) {
    for (ScaleModeB mb : {ScaleModeB::kTensor, ScaleModeB::kChannel}) {
      Problem p = exact_problem(s, ma, mb, rng);  // its power-of-two scales
      for (std::size_t i = 0; i < p.a.size(); ++i)
        p.a[i] = e4m3_from_float(i % s.k < kGemmBlockK ? 448.0f : 2.0f * static_cast<float>(half_a(rng)));
      for (std::size_t i = 0; i < p.b.size(); ++i)
        p.b[i] = e4m3_from_float(i % s.k < kGemmBlockK ? 448.0f : static_cast<float>(val_b(rng)));
      const auto want = cpu_reference(p, DType::kFloat32, {});
      DeviceProblem d(p, DType::kFloat32, std::nullopt, {});
      EXPECT_TRUE(same_bits(want, d.run(p, GemmBackend::kFp8kit, stream.get(), false), s.n, DType::kFloat32))
          << scale_mode_name(ma) << " x " << scale_mode_name(mb);
      const auto fast = d.run(p, GemmBackend::kFp8kit, stream.get(), true);
      double worst = 0;
      for (std::size_t i = 0; i + 4 <= want.size(); i += 4) {
        float w = 0, f = 0;
        std::memcpy(&w, &want[i], 4);
        std::memcpy(&f, &fast[i], 4);
        worst = std::max(worst, std::abs(static_cast<double>(f) - w) / std::max(std::abs(static_cast<double>(w)), 1.0));
      }
      std::printf("%s x %s, K = %lld: fast accumulation's largest relative deviation %.3g (exact path: 0)\n",
                  std::string(scale_mode_name(ma)).c_str(), std::string(scale_mode_name(mb)).c_str(),
                  static_cast<long long>(s.k), worst);
    }
  }
}

// Tight tier at large shapes: fp8kit, the reference kernel and cuBLASLt on identical
// exact-by-construction inputs agree bit for bit (DeepSeek-V3 shapes, M up to 4096).
TEST(Fp8kitGemmGpu, MatchesReferenceKernelAndCublasLtOnLargeShapes) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit gemm large"));
  cuda::Stream stream;
  const std::vector<GemmShape> shapes =
      under_sanitizer() ? std::vector<GemmShape>{{128, 576, 7168}}
                        : std::vector<GemmShape>{{4096, 576, 7168}, {512, 7168, 2048}, {2048, 4096, 512}, {16, 24576, 1536}};
  for (const GemmShape& s : shapes) {
    const Problem p = exact_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    const auto want = d.run(p, GemmBackend::kReference, stream.get());
    const auto lt = d.run(p, GemmBackend::kCublasLt, stream.get());
    EXPECT_TRUE(same_bits(want, lt, s.n, DType::kBFloat16)) << "cublaslt M=" << s.m;
    const auto got = d.run(p, GemmBackend::kFp8kit, stream.get());
    EXPECT_TRUE(same_bits(want, got, s.n, DType::kBFloat16)) << "fp8kit default M=" << s.m << " N=" << s.n;
    EXPECT_EQ(got, d.run(p, GemmBackend::kFp8kit, stream.get()));
    for (const GemmConfig& c : {block_config(128, 128, 6, 2, 2), block_config(128, 160, 5, 2, 1),
                                along_n(block_config(256, 128, 3, 2, 1))}) {
      if (!is_valid(c, s)) continue;
      expect_exact(d, p, c, want, stream.get());
    }
  }
}

// The decode path in a CUDA graph (issue 13): a 16- and a 32-row tile of the heuristic (shapes no
// tuned file covers), exact, then captured once and replayed twice with the direct call's bits.
TEST(Fp8kitGemmGpu, DecodeTilesReplayInACudaGraph) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit decode graph"));
  cuda::Stream stream;
  const int sms = cuda::current_device_info_cached().sm_count;
  for (const GemmShape& s : {GemmShape{1, 2304, 1024}, GemmShape{24, 4352, 640}}) {
    const GemmConfig c =
        ops::default_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16, sms);
    ASSERT_LT(c.block_m, 64) << to_string(c) << " at M=" << s.m << ": not a decode tile";
    const Problem p = exact_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    const auto direct = d.run(p, GemmBackend::kFp8kit, stream.get());  // loads the kernel
    EXPECT_TRUE(same_bits(cpu_reference(p, DType::kBFloat16, {}), direct, s.n, DType::kBFloat16)) << to_string(c);
    ScaledMmOptions o;
    o.backend = GemmBackend::kFp8kit;
    d.out.fill_bytes(0xFF);
    cuda::Graph g = cuda::Graph::capture(stream.get(), [&] {
      scaled_mm(d.va, d.vb, p.mode_a, d.vsa, p.mode_b, d.vsb, d.vout, std::nullopt, stream.get(), o);
    });
    g.launch(stream.get());
    g.launch(stream.get());
    stream.synchronize();
    std::vector<std::uint8_t> replay(direct.size());
    d.out.download(replay.data(), replay.size());
    EXPECT_EQ(direct, replay) << to_string(c);
  }
}

// Without 128x128 B scales the decode heuristic takes 96 / 112 wide tiles (straddling the 128-column
// groups nothing scales by here), unsplit and split in two inside a cluster: exact like the others.
TEST(Fp8kitGemmGpu, DecodeWidthsWithoutBlockScalesAreExact) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit decode 96/112"));
  cuda::Stream stream;
  const int sms = cuda::current_device_info_cached().sm_count;
  for (const GemmShape& s : {GemmShape{1, 28672, 4096}, GemmShape{16, 6144, 4096}}) {
    const GemmConfig c = ops::default_gemm_config(s, ScaleModeA::kToken, ScaleModeB::kChannel, DType::kBFloat16, sms);
    if (128 % c.block_n == 0) {
      GTEST_SKIP() << to_string(c) << ": this GPU's heuristic takes no 96 / 112 tile here";
    }
    const Problem p = exact_problem(s, ScaleModeA::kToken, ScaleModeB::kChannel, rng);
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    expect_exact(d, p, c, cpu_reference(p, DType::kBFloat16, {}), stream.get());
  }
}

// The heuristic's split-K at a decode shape in a CUDA graph: captured after a direct call it
// replays the direct call's bits; captured first on a fresh stream (no workspace to grow inside
// the capture) it runs unsplit and is still exact.
TEST(Fp8kitGemmGpu, SplitKHeuristicInACudaGraph) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit split-k graph"));
  const GemmShape s{16, 640, 7168};  // no shipped config: the heuristic runs
  const GemmConfig c = ops::default_gemm_config(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16,
                                                cuda::current_device_info_cached().sm_count);
  ASSERT_GT(c.split_k, 1) << to_string(c);
  const Problem p = exact_problem(s, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
  const auto want = cpu_reference(p, DType::kBFloat16, {});
  DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
  ScaledMmOptions o;
  o.backend = GemmBackend::kFp8kit;
  auto replayed = [&](cudaStream_t stream) {
    d.out.fill_bytes(0xFF);
    cuda::Graph g = cuda::Graph::capture(stream, [&] {
      scaled_mm(d.va, d.vb, p.mode_a, d.vsa, p.mode_b, d.vsb, d.vout, std::nullopt, stream, o);
    });
    g.launch(stream);
    g.launch(stream);
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<std::uint8_t> out(want.size());
    d.out.download(out.data(), out.size());
    return out;
  };
  cuda::Stream stream, fresh;
  GemmConfig one = c;
  one.split_k = 1;
  EXPECT_TRUE(same_bits(want, d.run_config(p, one, stream.get()), s.n, DType::kBFloat16));  // loads it
  const auto unsplit = replayed(fresh.get());
  EXPECT_TRUE(same_bits(want, unsplit, s.n, DType::kBFloat16));
  const auto direct = d.run(p, GemmBackend::kFp8kit, stream.get());
  EXPECT_TRUE(same_bits(want, direct, s.n, DType::kBFloat16));
  EXPECT_EQ(direct, replayed(stream.get()));
}

// Split-K (issue 13): fp32 partials per K range into the workspace, summed in
// split order by the reduce: exact and the same bits twice for every scale pair, out dtype and
// bias, at decode shapes and a ragged one; a split that would leave a K range empty is refused.
TEST(Fp8kitGemmGpu, SplitKIsExactAndTheSameBitsEveryRun) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit gemm split-k"));
  cuda::Stream stream;
  int runs = 0;
  for (const GemmShape& s : {GemmShape{1, 576, 7168}, GemmShape{40, 272, 1152}}) {
    for (ScaleModeA ma : kModesA) {
      for (ScaleModeB mb : kModesB) {
        const Problem p = exact_problem(s, ma, mb, rng);
        for (DType out : kOuts) {
          const std::optional<DType> bias = out == DType::kFloat32 ? std::optional<DType>{DType::kBFloat16} : std::nullopt;
          const std::vector<float> bias_values = bias ? small_int_bias(s.n, rng) : std::vector<float>{};
          const auto want = cpu_reference(p, out, bias_values);
          DeviceProblem d(p, out, bias, bias_values);
          for (auto [base, split] : {std::pair{block_config(64, 32, 8, 1, 1), 7}, {block_config(16, 64, 16, 1, 1), 3}}) {
            GemmConfig c = base;
            c.mode_a = ma;
            c.mode_b = mb;
            c.out = out;
            c.split_k = split;
            if (!is_valid(c, s)) continue;
            expect_exact(d, p, c, want, stream.get());
            ++runs;
          }
        }
      }
    }
  }
  EXPECT_GT(runs, 0);
  std::printf("split-k: %d runs\n", runs);
  const Problem p = exact_problem({8, 256, 384}, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
  DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
  GemmConfig four = block_config(64, 32, 8, 1, 1);
  four.split_k = 4;  // 3 K blocks
  EXPECT_THROW(d.run_config(p, four, stream.get()), Error);
}

TEST(Fp8kitGemmGpu, BadConfigIsRefused) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit gemm bad config"));
  cuda::Stream stream;
  const Problem p = exact_problem({64, 256, 256}, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
  DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
  // 1 M tile cannot form a cluster pair; a config for another out dtype does not match the call.
  EXPECT_THROW(d.run_config(p, block_config(64, 128, 4, 1, 2), stream.get()), Error);
  EXPECT_THROW(d.run_config(p, block_config(64, 128, 4, 1, 1, DType::kFloat32), stream.get()), Error);
  // A negative cap on the persistent grid is refused, not taken as "no cap".
  EXPECT_THROW(d.run_config(p, block_config(64, 128, 4, 1, 1), stream.get(), -1), Error);
}

}  // namespace
}  // namespace fp8kit
