// ScaledMmOptions::b_is_weight (issue 13): backend fp8kit starts loading B before it waits for the
// kernel before it, and loads A only after. linear() sets it. The bits must be those of the GEMM
// without it, and A must never be read before the quantization that writes it has finished: the
// quantized activations are poisoned (E4M3 NaN codes, NaN scales) before every call, so an early
// read of A shows in the output.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

TEST(WeightPrefetchGpu, LinearGivesTheUnprefetchedBitsAndNeverReadsAEarly) {
  std::mt19937_64 rng(test::fresh_seed("fp8kit weight prefetch"));
  cuda::Stream stream;
  const int reps = under_sanitizer() ? 2 : 10;
  int runs = 0;
  // Decode shapes the heuristic splits (the whole K range of a CTA fits its ring), an unsplit one and
  // a prefill shape with more K blocks than the ring.
  for (const GemmShape& s : {GemmShape{16, 576, 7168}, GemmShape{1, 2112, 7168}, GemmShape{64, 4096, 512},
                             GemmShape{256, 1024, 2048}}) {
    std::uniform_real_distribution<float> val(-3.0f, 3.0f);
    std::vector<std::uint16_t> x(sz(s.m * s.k));
    for (auto& v : x) v = bf16_from_float(val(rng));
    cuda::DeviceBuffer dx(x.size() * 2);
    dx.upload(x);
    const TensorView vx = TensorView::matrix(dx.data(), DType::kBFloat16, s.m, s.k, s.k);
    for (auto [ma, mb] : {std::pair{ScaleModeA::kGroup128, ScaleModeB::kBlock128},
                          std::pair{ScaleModeA::kToken, ScaleModeB::kChannel}}) {
      const Problem p = exact_problem(s, ma, mb, rng);  // B and its scales; A comes from x
      DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
      cuda::DeviceBuffer ws(linear_workspace_bytes(s.m, s.k, ma));
      const TensorView vws = TensorView::contiguous(ws.data(), DType::kE4M3, {static_cast<std::int64_t>(ws.bytes())});
      // The GEMM without the prefetch on linear()'s own quantized activations is the expectation.
      const TensorView q = TensorView::matrix(ws.data(), DType::kE4M3, s.m, s.k, s.k);
      const std::size_t q_bytes = (sz(s.m * s.k) + 255) / 256 * 256;
      const TensorView qs = TensorView::contiguous(static_cast<std::byte*>(ws.data()) + q_bytes, DType::kFloat32,
                                                   {scale_a_elems(ma, s.m, s.k)});
      ScaledMmOptions o;
      o.backend = GemmBackend::kFp8kit;
      quantize(vx, q, qs, ops::linear_quant_spec(ma), stream.get());
      d.out.fill_bytes(0xFF);
      scaled_mm(q, d.vb, ma, qs, mb, d.vsb, d.vout, std::nullopt, stream.get(), o);
      stream.synchronize();
      std::vector<std::uint8_t> want(sz(s.m * s.n) * 2), got(want.size());
      d.out.download(want.data(), want.size());
      const std::string what = fmt::format("{} x {} M={} N={} K={}", scale_mode_name(ma), scale_mode_name(mb), s.m,
                                           s.n, s.k);
      for (int rep = 0; rep < reps; ++rep) {
        ws.fill_bytes(0xFF);  // E4M3 NaN codes and NaN scales
        d.out.fill_bytes(0xFF);
        linear(vx, d.vb, d.vsb, LinearStrategy{ma, mb}, d.vout, std::nullopt, vws, stream.get(), o);
        stream.synchronize();
        d.out.download(got.data(), got.size());
        EXPECT_EQ(got, want) << what << ", repetition " << rep;
        ++runs;
      }
    }
  }
  std::printf("weight prefetch: %d linear calls\n", runs);
}

}  // namespace
}  // namespace fp8kit
