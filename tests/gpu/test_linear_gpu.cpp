// fp8kit::linear on the GPU: quantization + scaled_mm against the CPU quantizer and GEMM, and
// ScaledMmOptions::b_is_weight (issue 13), which linear() sets: backend fp8kit starts loading B
// before it waits for the kernel before it, and loads A only after. The bits must be those of the
// GEMM without it, and A must never be read before the quantization that writes it has finished:
// the quantized activations are poisoned (E4M3 NaN codes, NaN scales) before every call, so an
// early read of A shows in the output.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "core/fp8_codec.hpp"
#include "core/ref_gemm.hpp"
#include "core/ref_quant.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

// linear(): fp8kit::quantize + scaled_mm equals the CPU quantizer + CPU GEMM when the activations
// are exact in E4M3 after scaling (integers times a power of two), for every strategy cuBLASLt runs.
TEST(ScaledMmGpu, LinearQuantizesAndMultiplies) {
  std::mt19937_64 rng(test::fresh_seed("linear"));
  cuda::Stream stream;
  const std::int64_t m = 45, n = 256, k = 512;
  std::uniform_int_distribution<int> val(-4, 4);
  std::vector<std::uint16_t> x(sz(m * k));
  std::vector<float> xf(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = bf16_from_float(static_cast<float>(val(rng)) * 0.5f);
    xf[i] = bf16_to_float(x[i]);
  }
  cuda::DeviceBuffer dx(x.size() * 2);
  dx.upload(x);
  const TensorView vx = TensorView::matrix(dx.data(), DType::kBFloat16, m, k, k);
  for (auto [ma, mb] : {std::pair{ScaleModeA::kTensor, ScaleModeB::kTensor},
                        std::pair{ScaleModeA::kToken, ScaleModeB::kChannel},
                        std::pair{ScaleModeA::kToken, ScaleModeB::kTensor},
                        std::pair{ScaleModeA::kTensor, ScaleModeB::kChannel},
                        std::pair{ScaleModeA::kGroup128, ScaleModeB::kBlock128}}) {
    Problem p = exact_problem({m, n, k}, ma, mb, rng);
    QuantSpec spec;
    spec.granularity = ma == ScaleModeA::kTensor ? Granularity::kPerTensor
                       : ma == ScaleModeA::kToken ? Granularity::kPerToken
                                                  : Granularity::kPerGroup;
    if (ma == ScaleModeA::kGroup128) spec.layout = ScaleLayout::kColMajorTmaAligned;
    const auto qa = ref::quantize(xf.data(), DType::kFloat32, m, k, k, spec);
    p.a = qa.q;
    p.scale_a = qa.scales;
    const auto want = cpu_reference(p, DType::kBFloat16, {});
    DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
    cuda::DeviceBuffer ws(linear_workspace_bytes(m, k, ma));
    const TensorView vws = TensorView::contiguous(ws.data(), DType::kE4M3, {static_cast<std::int64_t>(ws.bytes())});
    d.out.fill_bytes(0xFF);
    linear(vx, d.vb, d.vsb, LinearStrategy{ma, mb}, d.vout, std::nullopt, vws, stream.get());
    stream.synchronize();
    std::vector<std::uint8_t> got(want.size());
    d.out.download(got.data(), got.size());
    // The GPU quantizer matches the CPU one bit for bit (quant tests), so the GEMM inputs are
    // identical; the products are not all exact here (x/s need not be a short integer), so allow
    // the accumulation order to move the last bf16 bit.
    const double err = ref::relative_error(ref::load(std::as_bytes(std::span(want)), m, n, DType::kBFloat16, n), m, n,
                                           DType::kBFloat16, std::as_bytes(std::span(got)), n);
    EXPECT_LT(err, 4e-3) << scale_mode_name(ma) << " x " << scale_mode_name(mb);
  }
}

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
      // The expectation: the same quantization (deterministic, bit-exact) into buffers of the
      // test's own, then the GEMM without the prefetch.
      cuda::DeviceBuffer dq(sz(s.m * s.k)), dqs(sz(scale_a_elems(ma, s.m, s.k)) * 4);
      const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, s.m, s.k, s.k);
      const TensorView qs = TensorView::contiguous(dqs.data(), DType::kFloat32, {scale_a_elems(ma, s.m, s.k)});
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
