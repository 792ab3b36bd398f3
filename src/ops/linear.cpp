// fp8kit::linear: dynamic activation quantization (fp8kit::quantize) into a caller-provided
// workspace, then scaled_mm. Nothing is allocated here.
#include <fmt/format.h>

#include "core/gemm_spec.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit {
namespace {

constexpr std::size_t kAlign = 256;  // each workspace part starts 256-byte aligned

std::size_t round_up(std::size_t v, std::size_t a) { return (v + a - 1) / a * a; }

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

}  // namespace

std::size_t linear_workspace_bytes(std::int64_t m, std::int64_t k, ScaleModeA act) {
  if (m < 0 || k < 0) fail(fmt::format("linear_workspace_bytes: M and K must be >= 0, got {} and {}", m, k));
  // (M, K) E4M3 codes with row stride K, then the activation scales in scaled_mm's layout.
  const auto q_bytes = static_cast<std::size_t>(m * k);
  const auto s_bytes = static_cast<std::size_t>(scale_a_elems(act, m, k)) * sizeof(float);
  return round_up(q_bytes, kAlign) + round_up(s_bytes, kAlign);
}

void linear(const TensorView& x, const TensorView& w, const TensorView& w_scale, const LinearStrategy& strategy,
            const TensorView& out, const std::optional<TensorView>& bias, const TensorView& workspace,
            cudaStream_t stream, const ScaledMmOptions& options, const QuantizeOptions& quant_options) {
  if (x.rank != 2) fail(fmt::format("linear: x must be a matrix (M, K), got {}", x.describe()));
  if (x.dtype != DType::kBFloat16 && x.dtype != DType::kFloat16) {
    fail(fmt::format("linear: x must be bfloat16 or half, got {}", x.describe()));
  }
  const std::int64_t m = x.size(0), k = x.size(1);
  if (m > 0 && k % kGemmScaleBlock != 0 && strategy.act == ScaleModeA::kGroup128) {
    fail(fmt::format("linear: K must be a multiple of 128 with group128 activations, got {}", k));
  }
  const std::size_t need = linear_workspace_bytes(m, k, strategy.act);
  if (workspace.span_bytes() < need || !workspace.is_contiguous()) {
    fail(fmt::format("linear: workspace must be a contiguous device buffer of at least linear_workspace_bytes(M={}, "
                     "K={}, {}) = {} bytes, got {}",
                     m, k, scale_mode_name(strategy.act), need, workspace.describe()));
  }
  if (reinterpret_cast<std::uintptr_t>(workspace.data) % kAlign != 0) {
    fail(fmt::format("linear: workspace must be 256-byte aligned, got address {}", workspace.data));
  }
  auto* base = static_cast<std::byte*>(workspace.data);
  const TensorView q = TensorView::matrix(base, DType::kE4M3, m, k, k);
  const TensorView scales = TensorView::contiguous(base + round_up(static_cast<std::size_t>(m * k), kAlign),
                                                   DType::kFloat32, {scale_a_elems(strategy.act, m, k)});
  // Check the GEMM's own arguments before quantizing, so a bad weight leaves nothing half-done.
  ops::check_scaled_mm_args(q, w, strategy.act, scales, strategy.weight, w_scale, out, bias);
  if (m == 0) return;
  quantize(x, q, scales, ops::linear_quant_spec(strategy.act), stream, quant_options);
  ScaledMmOptions gemm = options;
  gemm.b_is_weight = true;  // w is the layer's weight: it streams while the quantization runs
  scaled_mm(q, w, strategy.act, scales, strategy.weight, w_scale, out, bias, stream, gemm);
}

}  // namespace fp8kit
