#include "tune/output_check.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/fp8_codec.hpp"

namespace fp8kit::tune {
namespace {

double element(std::span<const std::byte> data, DType out, std::size_t i) {
  if (out == DType::kFloat32) {
    float v;
    std::memcpy(&v, data.data() + 4 * i, 4);
    return v;
  }
  std::uint16_t bits;
  std::memcpy(&bits, data.data() + 2 * i, 2);
  return out == DType::kBFloat16 ? bf16_to_float(bits) : half_to_float(bits);
}

}  // namespace

double tuner_verify_tolerance(DType out) {
  switch (out) {
    case DType::kBFloat16: return 8e-3;
    case DType::kFloat16: return 2e-3;
    case DType::kFloat32: return 1e-3;
    default: break;
  }
  throw_invalid_argument(fmt::format("no GEMM output tolerance for {}", dtype_name(out)));
}

std::optional<std::string> compare_gemm_outputs(std::span<const std::byte> expected, std::span<const std::byte> got,
                                                DType out, std::int64_t rows, std::int64_t cols) {
  const double tolerance = tuner_verify_tolerance(out);
  const std::size_t count = static_cast<std::size_t>(rows * cols);
  if (expected.size() < count * dtype_size(out) || got.size() < count * dtype_size(out)) {
    throw_invalid_argument("compare_gemm_outputs: buffers shorter than rows x cols");
  }
  double diff2 = 0, ref2 = 0, worst = -1;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double e = element(expected, out, i), g = element(got, out, i);
    if (!std::isfinite(g)) {
      return fmt::format("non-finite output {} at (row {}, col {}), reference {}", g, i / static_cast<std::size_t>(cols),
                         i % static_cast<std::size_t>(cols), e);
    }
    const double d = g - e;
    diff2 += d * d;
    ref2 += e * e;
    if (std::abs(d) > worst) {
      worst = std::abs(d);
      worst_at = i;
    }
  }
  const double rel = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  if (rel < tolerance) return std::nullopt;
  return fmt::format("relative error {:.3g} >= {:.3g} vs the reference backend; worst at (row {}, col {}): {} vs {}", rel,
                     tolerance, worst_at / static_cast<std::size_t>(cols), worst_at % static_cast<std::size_t>(cols),
                     element(got, out, worst_at), element(expected, out, worst_at));
}

}  // namespace fp8kit::tune
