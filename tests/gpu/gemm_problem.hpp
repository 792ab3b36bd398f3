// Shared by the GEMM GPU tests: exact-tier problems (DESIGN.md §3, §6), their device copies with
// NaN-poisoned outputs, the CPU oracle and a bit-for-bit comparison that names the first mismatches.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fp8_codec.hpp"
#include "core/gemm_config.hpp"
#include "core/gemm_spec.hpp"
#include "core/ref_gemm.hpp"
#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit::gemm_test {

inline constexpr ScaleModeA kModesA[] = {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128};
inline constexpr ScaleModeB kModesB[] = {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128};
inline constexpr DType kOuts[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};

inline bool under_sanitizer() { return std::getenv("FP8KIT_UNDER_SANITIZER") != nullptr; }
inline bool promoted(ScaleModeA a, ScaleModeB b) { return a == ScaleModeA::kGroup128 || b == ScaleModeB::kBlock128; }
inline std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// Host inputs of one problem.
struct Problem {
  GemmShape s;
  ScaleModeA mode_a;
  ScaleModeB mode_b;
  std::vector<std::uint8_t> a, b;
  std::vector<float> scale_a, scale_b;
};

// Exact-tier inputs (DESIGN.md §3): integers as E4M3 codes, power-of-two scales 2^[-2, 2], so
// every fp32 partial, product and sum is exact: promoted modes use [-4, 4] (a 128-wide slice
// sums to at most 2^11); unpromoted modes use {-1, 0, 1} (all of K sums to at most K < 2^13).
// Padding entries of the scale layouts are poisoned with NaN: reading one shows in the output.
inline Problem exact_problem(GemmShape s, ScaleModeA ma, ScaleModeB mb, std::mt19937_64& rng) {
  Problem p{s, ma, mb, {}, {}, {}, {}};
  const int lim = promoted(ma, mb) ? 4 : 1;
  std::uniform_int_distribution<int> val(-lim, lim), ex(-2, 2);
  auto codes = [&](std::int64_t n) {
    std::vector<std::uint8_t> v(sz(n));
    for (auto& c : v) c = e4m3_from_float(static_cast<float>(val(rng)));
    return v;
  };
  p.a = codes(s.m * s.k);
  p.b = codes(s.n * s.k);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  p.scale_a.assign(sz(scale_a_elems(ma, s.m, s.k)), nan);
  p.scale_b.assign(sz(scale_b_elems(mb, s.n, s.k)), nan);
  const std::int64_t kb = s.k / kGemmScaleBlock;
  auto pow2 = [&] { return std::ldexp(1.0f, ex(rng)); };
  if (ma == ScaleModeA::kGroup128) {
    for (std::int64_t j = 0; j < kb; ++j)
      for (std::int64_t i = 0; i < s.m; ++i) p.scale_a[sz(j * group128_scale_ld(s.m) + i)] = pow2();
  } else {
    for (auto& v : p.scale_a) v = pow2();
  }
  if (mb == ScaleModeB::kBlock128) {
    for (std::int64_t i = 0; i < (s.n + 127) / 128; ++i)
      for (std::int64_t j = 0; j < kb; ++j) p.scale_b[sz(i * block128_scale_ld(s.k) + j)] = pow2();
  } else {
    for (auto& v : p.scale_b) v = pow2();
  }
  return p;
}

// Device copies of a problem and an output, with TensorViews.
struct DeviceProblem {
  cuda::DeviceBuffer a, b, sa, sb, bias, out;
  TensorView va, vb, vsa, vsb, vout;
  std::optional<TensorView> vbias;
  DType out_dtype;
  GemmShape s;

  DeviceProblem(const Problem& p, DType out_type, std::optional<DType> bias_dtype,
                const std::vector<float>& bias_values)
      : a(p.a.size()), b(p.b.size()), sa(p.scale_a.size() * 4), sb(p.scale_b.size() * 4),
        out(sz(p.s.m * p.s.n) * dtype_size(out_type) + 16), out_dtype(out_type), s(p.s) {
    a.upload(p.a);
    b.upload(p.b);
    sa.upload(p.scale_a);
    sb.upload(p.scale_b);
    va = TensorView::matrix(a.data(), DType::kE4M3, s.m, s.k, s.k);
    vb = TensorView::matrix(b.data(), DType::kE4M3, s.n, s.k, s.k);
    vsa = TensorView::contiguous(sa.data(), DType::kFloat32, {static_cast<std::int64_t>(p.scale_a.size())});
    vsb = TensorView::contiguous(sb.data(), DType::kFloat32, {static_cast<std::int64_t>(p.scale_b.size())});
    vout = TensorView::matrix(out.data(), out_type, s.m, s.n, s.n);
    if (bias_dtype) {
      bias = cuda::DeviceBuffer(bias_values.size() * 4);
      if (*bias_dtype == DType::kFloat32) {
        bias.upload(bias_values);
      } else {
        std::vector<std::uint16_t> bits(bias_values.size());
        for (std::size_t i = 0; i < bits.size(); ++i)
          bits[i] = *bias_dtype == DType::kFloat16 ? half_from_float(bias_values[i]) : bf16_from_float(bias_values[i]);
        bias.upload(bits);
      }
      vbias = TensorView::contiguous(bias.data(), *bias_dtype, {s.n});
    }
  }

  // Poisons the output with NaN, runs, returns the output bytes.
  std::vector<std::uint8_t> run(const Problem& p, GemmBackend backend, cudaStream_t stream, bool fast_accum = false) {
    ScaledMmOptions o;
    o.backend = backend;
    o.fast_accum = fast_accum;
    return poisoned_run(stream, [&] { scaled_mm(va, vb, p.mode_a, vsa, p.mode_b, vsb, vout, vbias, stream, o); });
  }

  // The same through the fp8kit backend with an explicit config (max_clusters: Sm90GemmLaunch's).
  std::vector<std::uint8_t> run_config(const Problem& p, const GemmConfig& config, cudaStream_t stream,
                                       int max_clusters = 0) {
    return poisoned_run(stream, [&] {
      ops::fp8kit_scaled_mm(va, vb, p.mode_a, vsa, p.mode_b, vsb, vout, vbias, stream, config,
                            {.max_clusters = max_clusters});
    });
  }

 private:
  template <class Launch>
  std::vector<std::uint8_t> poisoned_run(cudaStream_t stream, Launch&& launch) {
    out.fill_bytes(0xFF);
    launch();
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
    std::vector<std::uint8_t> bytes(sz(s.m * s.n) * dtype_size(out_dtype));
    out.download(bytes.data(), bytes.size());
    return bytes;
  }
};

inline std::vector<std::uint8_t> cpu_reference(const Problem& p, DType out, const std::vector<float>& bias) {
  ref::ScaledGemmInputs in;
  in.shape = p.s;
  in.mode_a = p.mode_a;
  in.mode_b = p.mode_b;
  in.a = p.a;
  in.lda = p.s.k;
  in.b = p.b;
  in.ldb = p.s.k;
  in.scale_a = p.scale_a;
  in.scale_b = p.scale_b;
  in.bias = bias;
  const std::vector<std::byte> bytes = ref::store(ref::scaled_gemm(in), p.s.m, p.s.n, out);
  std::vector<std::uint8_t> u(bytes.size());
  std::memcpy(u.data(), bytes.data(), bytes.size());
  return u;
}

// Bit-for-bit comparison, reporting the first few mismatches as (row, column, want, got).
inline ::testing::AssertionResult same_bits(const std::vector<std::uint8_t>& want, const std::vector<std::uint8_t>& got,
                                     std::int64_t n, DType dtype) {
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "size " << want.size() << " vs " << got.size();
  const std::size_t e = dtype_size(dtype);
  int bad = 0;
  std::size_t count = 0;
  std::string msg;
  for (std::size_t i = 0; i < want.size() / e; ++i) {
    if (std::memcmp(&want[i * e], &got[i * e], e) == 0) continue;
    ++count;
    if (bad++ < 5) {
      const auto w = ref::load(std::as_bytes(std::span(want)).subspan(i * e, e), 1, 1, dtype, 1)[0];
      const auto g = ref::load(std::as_bytes(std::span(got)).subspan(i * e, e), 1, 1, dtype, 1)[0];
      msg += fmt::format(" ({}, {}): want {} got {};", static_cast<std::int64_t>(i) / n,
                         static_cast<std::int64_t>(i) % n, w, g);
    }
  }
  if (count == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << count << " elements differ:" << msg;
}

inline std::vector<float> small_int_bias(std::int64_t n, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> d(-8, 8);
  std::vector<float> v(sz(n));
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}


}  // namespace fp8kit::gemm_test
