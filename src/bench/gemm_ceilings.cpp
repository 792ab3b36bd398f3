#include "bench/gemm_ceilings.hpp"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/timing.hpp"
#include "core/fp8_codec.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

constexpr float kScale = 1.0f / 64;  // per-tensor scale of both operands

// Random finite E4M3 codes of moderate size (|v| <= 2^4): no NaN, and sums stay far from overflow.
std::vector<std::uint8_t> random_codes(std::size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> codes(count);
  for (auto& c : codes) {
    c = static_cast<std::uint8_t>(byte(rng));
    if ((c & 0x78) > 0x58) c &= 0x87;  // exponent field above 11 (|v| >= 32): fold into a small value
  }
  return codes;
}

// Checks sampled outputs against double dot products, relative to the sum of |products| (the
// accumulation error scales with it, not with the result, which may cancel to near 0).
void check_sampled(const std::vector<std::uint16_t>& out, const std::vector<std::uint8_t>& a,
                   const std::vector<std::uint8_t>& b, int n, const char* what) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> index(0, n - 1);
  for (int s = 0; s < 64; ++s) {
    const std::size_t i = static_cast<std::size_t>(index(rng)), j = static_cast<std::size_t>(index(rng));
    double ref = 0, magnitude = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) {
      const double p = double(e4m3_to_float(a[i * n + k])) * double(e4m3_to_float(b[j * n + k]));
      ref += p;
      magnitude += std::fabs(p);
    }
    ref *= double(kScale) * kScale;
    magnitude *= double(kScale) * kScale;
    const double got = bf16_to_float(out[i * n + j]);
    if (!(std::fabs(got - ref) <= 1e-2 * magnitude + 1e-30)) {
      throw Error(ErrorKind::kCheckFailed, fmt::format("{} at 8192^3: D[{}, {}] = {} but the double product is {}",
                                                       what, i, j, got, ref));
    }
  }
}

}  // namespace

std::map<std::string, double> measure_gemm_ceilings(cudaStream_t stream, int n) {
  const std::size_t elems = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::mt19937_64 rng(20261121);
  const std::vector<std::uint8_t> a_codes = random_codes(elems, rng), b_codes = random_codes(elems, rng);
  std::vector<std::uint16_t> a16(elems), b16(elems);
  for (std::size_t i = 0; i < elems; ++i) {
    a16[i] = bf16_from_float(e4m3_to_float(a_codes[i]) * kScale);  // exact: the same values in bf16
    b16[i] = bf16_from_float(e4m3_to_float(b_codes[i]) * kScale);
  }
  cuda::DeviceBuffer a(elems), b(elems), scale(sizeof(float)), out(elems * 2), da16(elems * 2), db16(elems * 2);
  a.upload(a_codes);
  b.upload(b_codes);
  scale.upload(&kScale, sizeof(float));
  da16.upload(a16);
  db16.upload(b16);

  const TensorView va = TensorView::matrix(a.data(), DType::kE4M3, n, n, n);
  const TensorView vb = TensorView::matrix(b.data(), DType::kE4M3, n, n, n);
  const TensorView vs = TensorView::contiguous(scale.data(), DType::kFloat32, {1});
  const TensorView vout = TensorView::matrix(out.data(), DType::kBFloat16, n, n, n);
  const TensorView va16 = TensorView::matrix(da16.data(), DType::kBFloat16, n, n, n);
  const TensorView vb16 = TensorView::matrix(db16.data(), DType::kBFloat16, n, n, n);
  ScaledMmOptions exact, fast;
  exact.backend = fast.backend = GemmBackend::kCublasLt;
  fast.fast_accum = true;

  const std::pair<const char*, LaunchFn> cases[] = {
      {"cublaslt_fp8_tflops",
       [&](cudaStream_t s, int) { scaled_mm(va, vb, ScaleModeA::kTensor, vs, ScaleModeB::kTensor, vs, vout, std::nullopt, s, exact); }},
      {"cublaslt_fp8_fast_accum_tflops",
       [&](cudaStream_t s, int) { scaled_mm(va, vb, ScaleModeA::kTensor, vs, ScaleModeB::kTensor, vs, vout, std::nullopt, s, fast); }},
      {"cublaslt_bf16_tflops", [&](cudaStream_t s, int) { mm(va16, vb16, vout, std::nullopt, s); }},
  };
  const double flops = 2.0 * n * double(n) * n;
  std::map<std::string, double> tflops;
  for (const auto& [name, launch] : cases) {
    out.fill_bytes(0xFF);  // NaN: an unwritten element fails the check
    launch(stream, 0);
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
    check_sampled(out.download_all<std::uint16_t>(), a_codes, b_codes, n, name);
    TimingConfig config;
    config.target_replay_ms = 50;
    tflops[name] = flops / (time_launches(launch, 1, stream, config).median * 1e6);
  }
  return tflops;
}

}  // namespace fp8kit::bench
