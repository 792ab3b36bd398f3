// scaled_mm / mm / linear on the GPU (DESIGN.md §6): the exact tier against the CPU reference
// (small shapes), the tight tier cuBLASLt vs the reference kernel (large shapes, exact-by-
// construction inputs so any difference is a bug), a statistical tier on realistic data, bias,
// NaN-poisoned outputs, run-twice determinism, CUDA-graph capture, bad input, BF16 mm.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/gemm_ceilings.hpp"
#include "bench/timing.hpp"
#include "blas/cublaslt_gemm.hpp"
#include "core/fp8_codec.hpp"
#include "core/gemm_spec.hpp"
#include "core/ref_gemm.hpp"
#include "core/ref_quant.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "gemm_problem.hpp"
#include "gpu_test_util.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit {
namespace {

using namespace gemm_test;  // NOLINT: the shared GEMM test vocabulary

// reference and auto always; cublaslt where auto would pick it (pair and out dtype supported).
bool cublaslt_runs(ScaleModeA a, ScaleModeB b, DType out, std::int64_t m) {
  return resolve_gemm_backend(GemmBackend::kAuto, a, b, out, std::nullopt) == GemmBackend::kCublasLt &&
         ops::cublaslt_supports_m(a, b, m);
}

std::vector<GemmBackend> backends_for(ScaleModeA a, ScaleModeB b, DType out, std::int64_t m) {
  std::vector<GemmBackend> v{GemmBackend::kReference, GemmBackend::kAuto};
  if (cublaslt_runs(a, b, out, m)) {
    v.push_back(GemmBackend::kCublasLt);
  }
  return v;
}

// Exact tier: every pair x out dtype x backend against the CPU reference, ragged M and N,
// K/128 = 3 (padded scale rows) and 4, with and without bias; twice for identical bits.
TEST(ScaledMmGpu, ExactTierMatchesCpuReferenceForEveryPairOutAndBackend) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm exact tier"));
  cuda::Stream stream;
  // M = 4, 64 and 132 reach cuBLASLt's block-scaled path (M % 4 == 0); 1, 7 and 129 do not.
  const std::vector<GemmShape> shapes = {{1, 256, 384},  {7, 320, 512},   {129, 144, 384},
                                         {4, 320, 384},  {64, 128, 256},  {132, 256, 512}};
  int runs = 0;
  for (const GemmShape& s : shapes) {
    for (ScaleModeA ma : kModesA) {
      for (ScaleModeB mb : kModesB) {
        const Problem p = exact_problem(s, ma, mb, rng);
        for (DType out : kOuts) {
          for (bool with_bias : {false, true}) {
            const std::vector<float> bias = with_bias ? small_int_bias(s.n, rng) : std::vector<float>{};
            const auto want = cpu_reference(p, out, bias);
            for (GemmBackend be : backends_for(ma, mb, out, s.m)) {
              // The bias dtype each backend takes: cuBLASLt's table, fp32 for the reference.
              std::optional<DType> bias_dtype;
              if (with_bias) {
                const bool lt = be == GemmBackend::kCublasLt ||
                                (be == GemmBackend::kAuto && cublaslt_runs(ma, mb, out, s.m));
                bias_dtype = lt ? (out == DType::kFloat16 ? DType::kFloat16 : DType::kBFloat16) : DType::kFloat32;
              }
              DeviceProblem d(p, out, bias_dtype, bias);
              const std::string what = fmt::format("M={} N={} K={} a={} b={} out={} backend={} bias={}", s.m, s.n, s.k,
                                                   scale_mode_name(ma), scale_mode_name(mb), dtype_name(out),
                                                   gemm_backend_name(be), with_bias);
              const auto got = d.run(p, be, stream.get());
              EXPECT_TRUE(same_bits(want, got, s.n, out)) << what;
              EXPECT_EQ(got, d.run(p, be, stream.get())) << "second run differs: " << what;
              ++runs;
            }
          }
        }
      }
    }
  }
  std::printf("exact tier: %d configurations\n", runs);
}

// fast_accum on the unpromoted pairs: inputs in {-1, 0, 1} keep it exact too.
TEST(ScaledMmGpu, FastAccumIsExactOnSmallIntegers) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm fast accum"));
  cuda::Stream stream;
  for (ScaleModeA ma : {ScaleModeA::kTensor, ScaleModeA::kToken}) {
    for (ScaleModeB mb : {ScaleModeB::kTensor, ScaleModeB::kChannel}) {
      const Problem p = exact_problem({33, 256, 1024}, ma, mb, rng);
      DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
      EXPECT_TRUE(same_bits(cpu_reference(p, DType::kBFloat16, {}), d.run(p, GemmBackend::kCublasLt, stream.get(), true),
                            256, DType::kBFloat16))
          << scale_mode_name(ma) << " x " << scale_mode_name(mb);
    }
  }
}

// Tight tier at large shapes: cuBLASLt and the reference kernel on identical exact-by-construction
// inputs must agree bit for bit; M from 1 to 16384, ragged N = 576, K = 2304 and 256 (K/128 = 18
// and 2: the shapes where unpadded block-scale rows went wrong on cuBLASLt 13.1).
TEST(ScaledMmGpu, CublasLtMatchesReferenceKernelOnLargeShapes) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm large shapes"));
  cuda::Stream stream;
  const std::vector<std::int64_t> ms = under_sanitizer() ? std::vector<std::int64_t>{1, 131}
                                                         : std::vector<std::int64_t>{1, 127, 1024, 16384};
  for (ScaleModeA ma : kModesA) {
    for (ScaleModeB mb : kModesB) {
      if (!backend_supports(GemmBackend::kCublasLt, ma, mb)) continue;
      const std::vector<std::int64_t> ks = promoted(ma, mb) ? std::vector<std::int64_t>{2304, 256}
                                                            : std::vector<std::int64_t>{2304};
      for (std::int64_t k : ks) {
        for (std::int64_t m : ms) {
          const Problem p = exact_problem({m, 576, k}, ma, mb, rng);
          for (DType out : kOuts) {
            if (m == 16384 && out != DType::kBFloat16) continue;  // the largest M once is enough
            if (!cublaslt_runs(ma, mb, out, m)) continue;
            DeviceProblem d(p, out, std::nullopt, {});
            const auto want = d.run(p, GemmBackend::kReference, stream.get());
            const auto got = d.run(p, GemmBackend::kCublasLt, stream.get());
            EXPECT_TRUE(same_bits(want, got, 576, out))
                << fmt::format("M={} K={} a={} b={} out={}", m, k, scale_mode_name(ma), scale_mode_name(mb),
                               dtype_name(out));
            if (m <= 128) {  // small enough for the CPU oracle: the reference kernel itself
              EXPECT_TRUE(same_bits(cpu_reference(p, out, {}), want, 576, out)) << "reference kernel vs CPU, M=" << m;
            }
          }
        }
      }
    }
  }
}

// Statistical tier: realistic data (x ~ N(0, 1) with a few large channels, W ~ N(0, 0.02)),
// quantized by the CPU reference quantizers, against a double product of the unquantized inputs.
TEST(ScaledMmGpu, StatisticalTierWithinTheFp8Bound) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm statistical tier"));
  cuda::Stream stream;
  const std::int64_t m = 96, n = 512, k = 1024;
  std::normal_distribution<float> nx(0.0f, 1.0f), nw(0.0f, 0.02f);
  std::vector<float> x(sz(m * k)), w(sz(n * k));
  for (auto& v : x) v = nx(rng);
  for (std::int64_t r = 0; r < m; ++r) x[sz(r * k + 17)] *= 30.0f;  // an outlier channel
  for (auto& v : w) v = nw(rng);
  std::vector<double> exact(sz(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t kk = 0; kk < k; ++kk) acc += double(x[sz(i * k + kk)]) * double(w[sz(j * k + kk)]);
      exact[sz(i * n + j)] = acc;
    }
  auto spec_a = [](ScaleModeA a) {
    QuantSpec q;
    q.granularity = a == ScaleModeA::kTensor ? Granularity::kPerTensor
                    : a == ScaleModeA::kToken ? Granularity::kPerToken
                                              : Granularity::kPerGroup;
    if (a == ScaleModeA::kGroup128) q.layout = ScaleLayout::kColMajorTmaAligned;
    return q;
  };
  auto spec_b = [](ScaleModeB b) {
    QuantSpec q;
    q.granularity = b == ScaleModeB::kTensor ? Granularity::kPerTensor
                    : b == ScaleModeB::kChannel ? Granularity::kPerChannel
                                                : Granularity::kBlock128;
    return q;
  };
  for (ScaleModeA ma : kModesA) {
    for (ScaleModeB mb : kModesB) {
      const auto qa = ref::quantize(x.data(), DType::kFloat32, m, k, k, spec_a(ma));
      const auto qb = ref::quantize(w.data(), DType::kFloat32, n, k, k, spec_b(mb));
      Problem p{{m, n, k}, ma, mb, qa.q, qb.q, qa.scales, qb.scales};
      ASSERT_EQ(static_cast<std::int64_t>(p.scale_a.size()), scale_a_elems(ma, m, k));
      ASSERT_EQ(static_cast<std::int64_t>(p.scale_b.size()), scale_b_elems(mb, n, k));
      for (GemmBackend be : backends_for(ma, mb, DType::kBFloat16, m)) {
        DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
        const auto got = d.run(p, be, stream.get());
        const double err = ref::relative_error(exact, m, n, DType::kBFloat16, std::as_bytes(std::span(got)), n);
        // E4M3 keeps 3 mantissa bits: each operand's rounding error is at most 2^-4 relative,
        // about 2^-4/sqrt(3) RMS; two operands give about 5% norm-wise, per-tensor activation
        // scales with an outlier channel a little more (small values land in subnormals).
        EXPECT_LT(err, 0.08) << scale_mode_name(ma) << " x " << scale_mode_name(mb) << " " << gemm_backend_name(be);
        EXPECT_GT(err, 1e-4) << "suspiciously exact: is the reference quantized?";
        std::printf("statistical: a=%-8s b=%-8s %-9s rel err %.4f\n", scale_mode_name(ma).data(),
                    scale_mode_name(mb).data(), gemm_backend_name(be).data(), err);
      }
    }
  }
}

TEST(ScaledMmGpu, CudaGraphCaptureReplaysTheSameBitsWithoutNewPlans) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm graph"));
  cuda::Stream stream;
  for (auto [ma, mb] : {std::pair{ScaleModeA::kToken, ScaleModeB::kTensor},
                        std::pair{ScaleModeA::kGroup128, ScaleModeB::kBlock128},
                        std::pair{ScaleModeA::kTensor, ScaleModeB::kChannel}}) {
    const Problem p = exact_problem({40, 256, 512}, ma, mb, rng);
    for (GemmBackend be : {GemmBackend::kCublasLt, GemmBackend::kReference}) {
      DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
      const auto direct = d.run(p, be, stream.get());  // first call: plans, workspace, JIT load
      const std::size_t plans = blas::cublaslt_plan_count();
      ScaledMmOptions o;
      o.backend = be;
      d.out.fill_bytes(0xFF);
      cuda::Graph g = cuda::Graph::capture(stream.get(), [&] {
        scaled_mm(d.va, d.vb, ma, d.vsa, mb, d.vsb, d.vout, std::nullopt, stream.get(), o);
      });
      g.launch(stream.get());
      stream.synchronize();
      std::vector<std::uint8_t> replay(direct.size());
      d.out.download(replay.data(), replay.size());
      EXPECT_TRUE(same_bits(direct, replay, 256, DType::kBFloat16)) << gemm_backend_name(be);
      EXPECT_EQ(blas::cublaslt_plan_count(), plans);
    }
  }
}

TEST(ScaledMmGpu, FirstCallForAShapeDuringCaptureIsRefused) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm capture refusal"));
  cuda::Stream stream;
  const Problem p = exact_problem({24, 272, 512}, ScaleModeA::kToken, ScaleModeB::kChannel, rng);
  DeviceProblem d(p, DType::kFloat16, std::nullopt, {});
  ScaledMmOptions o;
  o.backend = GemmBackend::kCublasLt;
  EXPECT_THROW(cuda::Graph::capture(stream.get(), [&] {
                 scaled_mm(d.va, d.vb, p.mode_a, d.vsa, p.mode_b, d.vsb, d.vout, std::nullopt, stream.get(), o);
               }),
               Error);
  // The stream still works afterwards.
  EXPECT_TRUE(same_bits(cpu_reference(p, DType::kFloat16, {}), d.run(p, GemmBackend::kCublasLt, stream.get()), 272,
                        DType::kFloat16));
}

TEST(ScaledMmGpu, BadInputThrows) {
  std::mt19937_64 rng(test::fresh_seed("scaled_mm bad input"));
  cuda::Stream stream;
  const Problem p = exact_problem({8, 128, 256}, ScaleModeA::kGroup128, ScaleModeB::kBlock128, rng);
  DeviceProblem d(p, DType::kBFloat16, std::nullopt, {});
  auto call = [&](const TensorView& a, GemmBackend be, bool fast) {
    ScaledMmOptions o;
    o.backend = be;
    o.fast_accum = fast;
    scaled_mm(a, d.vb, p.mode_a, d.vsa, p.mode_b, d.vsb, d.vout, std::nullopt, stream.get(), o);
  };
  std::vector<std::uint8_t> host(p.a);
  const TensorView host_a = TensorView::matrix(host.data(), DType::kE4M3, 8, 256, 256);
  for (auto [fn, fragment] : std::vector<std::pair<std::function<void()>, std::string>>{
           {[&] { call(host_a, GemmBackend::kReference, false); }, "a must be device memory"},
           {[&] { call(d.va, GemmBackend::kFp8kit, true); }, "fast_accum"},
           {[&] { call(d.va, GemmBackend::kCublasLt, true); }, "fast_accum"},
           {[&] {
              const TensorView f32 = TensorView::matrix(d.out.data(), DType::kFloat32, 8, 64, 64);  // fits the buffer
              const TensorView b64 = TensorView::matrix(d.b.data(), DType::kE4M3, 64, 256, 256);
              ScaledMmOptions o;
              o.backend = GemmBackend::kCublasLt;
              scaled_mm(d.va, b64, p.mode_a, d.vsa, p.mode_b, d.vsb, f32, std::nullopt, stream.get(), o);
            },
            "no float out"}}) {
    try {
      fn();
      ADD_FAILURE() << "expected an error containing " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    }
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

// M = 0 does nothing (and touches nothing).
TEST(ScaledMmGpu, EmptyMIsANoOp) {
  cuda::Stream stream;
  cuda::DeviceBuffer b(128 * 256), s(64), out(16);
  out.fill_bytes(0xAB);
  const TensorView a = TensorView::matrix(nullptr, DType::kE4M3, 0, 256, 256);
  const TensorView vb = TensorView::matrix(b.data(), DType::kE4M3, 128, 256, 256);
  const TensorView vs = TensorView::contiguous(s.data(), DType::kFloat32, {1});
  const TensorView vout = TensorView::matrix(out.data(), DType::kBFloat16, 0, 128, 128);
  for (GemmBackend be : {GemmBackend::kCublasLt, GemmBackend::kReference}) {
    ScaledMmOptions o;
    o.backend = be;
    EXPECT_NO_THROW(scaled_mm(a, vb, ScaleModeA::kTensor, vs, ScaleModeB::kTensor, vs, vout, std::nullopt,
                              stream.get(), o));
  }
  stream.synchronize();
  for (auto byte : out.download_all<std::uint8_t>()) EXPECT_EQ(byte, 0xAB);
}

TEST(MmGpu, Bf16AndFp16MatchCpuReference) {
  std::mt19937_64 rng(test::fresh_seed("mm"));
  cuda::Stream stream;
  std::uniform_int_distribution<int> val(-4, 4);
  for (DType in : {DType::kBFloat16, DType::kFloat16}) {
    for (DType out : {in, DType::kFloat32}) {
      for (bool with_bias : {false, true}) {
        const std::int64_t m = 37, n = 192, k = 512;
        std::vector<std::uint16_t> a(sz(m * k)), b(sz(n * k));
        auto enc = [&](float v) { return in == DType::kBFloat16 ? bf16_from_float(v) : half_from_float(v); };
        for (auto& v : a) v = enc(static_cast<float>(val(rng)));
        for (auto& v : b) v = enc(static_cast<float>(val(rng)));
        const std::vector<float> bias = with_bias ? small_int_bias(n, rng) : std::vector<float>{};
        ref::GemmInputs ri;
        ri.shape = {m, n, k};
        ri.dtype = in;
        ri.a = std::as_bytes(std::span(a));
        ri.lda = k;
        ri.b = std::as_bytes(std::span(b));
        ri.ldb = k;
        ri.bias = bias;
        const auto want_bytes = ref::store(ref::gemm(ri), m, n, out);
        std::vector<std::uint8_t> want(want_bytes.size());
        std::memcpy(want.data(), want_bytes.data(), want.size());

        cuda::DeviceBuffer da(a.size() * 2), db(b.size() * 2), dout(want.size()), dbias(sz(n) * 4);
        da.upload(a);
        db.upload(b);
        std::optional<TensorView> vbias;
        if (with_bias) {
          if (out == DType::kFloat32) {
            dbias.upload(bias);
          } else {
            std::vector<std::uint16_t> bits(bias.size());
            for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = enc(bias[i]);
            dbias.upload(bits);
          }
          vbias = TensorView::contiguous(dbias.data(), out, {n});
        }
        dout.fill_bytes(0xFF);
        mm(TensorView::matrix(da.data(), in, m, k, k), TensorView::matrix(db.data(), in, n, k, k),
           TensorView::matrix(dout.data(), out, m, n, n), vbias, stream.get());
        stream.synchronize();
        EXPECT_TRUE(same_bits(want, dout.download_all<std::uint8_t>(), n, out))
            << dtype_name(in) << " -> " << dtype_name(out) << " bias " << with_bias;
      }
    }
  }
}

// Speed, not correctness (no assertion on the number): cuBLASLt FP8 per-tensor and BF16 at 8192^3,
// graph replay median, after checking a few outputs are finite.
TEST(ScaledMmPerf, CublasLtFp8AndBf16At8192) {
  if (under_sanitizer()) GTEST_SKIP() << "timing under compute-sanitizer is meaningless";
  cuda::Stream stream;
  const auto tflops = bench::measure_gemm_ceilings(stream.get());  // verifies each product first
  ASSERT_EQ(tflops.size(), 3u);
  for (const auto& [name, value] : tflops) {
    std::printf("[perf] %s 8192^3: %.1f TFLOP/s\n", name.c_str(), value);
    EXPECT_GT(value, 50.0) << name;  // a sanity bound (H100/H200 reach 600-1300), not a target
  }
}

}  // namespace
}  // namespace fp8kit
