#include "ops/scaled_mm_checks.hpp"

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "core/gemm_spec.hpp"

namespace fp8kit::ops {
namespace {

constexpr std::uintptr_t kAlign = 16;  // TMA and cuBLASLt's tensor-core kernels read 16-byte rows

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::kInvalidArgument, message); }

void require_rank2(const char* op, const char* name, const TensorView& t) {
  if (t.rank != 2) fail(fmt::format("{}: {} must be a matrix (rank 2), got {}", op, name, t.describe()));
}

void require_aligned(const char* op, const char* name, const TensorView& t) {
  if (t.numel() > 0 && t.data == nullptr) fail(fmt::format("{}: {} is a null pointer", op, name));
  if (reinterpret_cast<std::uintptr_t>(t.data) % kAlign != 0) {
    fail(fmt::format("{}: {} must be 16-byte aligned (TMA / cuBLASLt tensor cores), got address {}", op, name,
                     t.data));
  }
}

// A row-major matrix: unit column stride, row stride >= cols, 16-byte rows, aligned start.
void require_row_major(const char* op, const char* name, const TensorView& t) {
  require_rank2(op, name, t);
  if (t.size(0) < 0 || t.size(1) < 0) fail(fmt::format("{}: {} has a negative size: {}", op, name, t.describe()));
  if (t.size(1) > 1 && t.stride(1) != 1) {
    fail(fmt::format("{}: {} must be row-major with unit column stride (K-major for inputs), got {}", op, name,
                     t.describe()));
  }
  if (t.size(0) > 1 && t.stride(0) < t.size(1)) {
    fail(fmt::format("{}: {} row stride must be >= its {} columns, got {}", op, name, t.size(1), t.describe()));
  }
  const std::int64_t row_bytes = t.stride(0) * static_cast<std::int64_t>(dtype_size(t.dtype));
  if (t.size(0) > 1 && row_bytes % static_cast<std::int64_t>(kAlign) != 0) {
    fail(fmt::format("{}: {} row stride must be a multiple of 16 bytes, got {} bytes ({})", op, name, row_bytes,
                     t.describe()));
  }
  require_aligned(op, name, t);
}

void require_dtype(const char* op, const char* name, const TensorView& t, DType want) {
  if (t.dtype != want) {
    fail(fmt::format("{}: {} must be {}, got {}", op, name, dtype_name(want), t.describe()));
  }
}

void check_out(const char* op, const TensorView& out, const GemmShape& s) {
  require_row_major(op, "out", out);
  if (out.size(0) != s.m || out.size(1) != s.n) {
    fail(fmt::format("{}: out must be (M, N) = ({}, {}), got {}", op, s.m, s.n, out.describe()));
  }
}

void check_vector(const char* op, const char* name, const TensorView& t, std::int64_t elems, bool aligned16) {
  if (!t.is_contiguous()) fail(fmt::format("{}: {} must be contiguous, got {}", op, name, t.describe()));
  if (t.numel() != elems) {
    fail(fmt::format("{}: {} must hold {} values, got {} ({})", op, name, elems, t.numel(), t.describe()));
  }
  if (elems > 0 && t.data == nullptr) fail(fmt::format("{}: {} is a null pointer", op, name));
  const std::uintptr_t need = aligned16 ? kAlign : dtype_size(t.dtype);
  if (reinterpret_cast<std::uintptr_t>(t.data) % need != 0) {
    fail(fmt::format("{}: {} must be {}-byte aligned, got address {}", op, name, need, t.data));
  }
}

void check_scale(const char* name, const TensorView& t, std::int64_t elems, bool is_vector_mode,
                 std::string_view layout) {
  if (t.dtype != DType::kFloat32) {
    fail(fmt::format("scaled_mm: {} must be float ({}), got {}", name, layout, t.describe()));
  }
  if (!t.is_contiguous() || t.numel() != elems) {
    fail(fmt::format("scaled_mm: {} must be a contiguous float tensor of {} values ({}), got {}", name, elems, layout,
                     t.describe()));
  }
  check_vector("scaled_mm", name, t, elems, is_vector_mode);
}

std::string scale_a_layout(ScaleModeA mode) {
  switch (mode) {
    case ScaleModeA::kTensor: return "one per tensor";
    case ScaleModeA::kToken: return "one per row of a (M)";
    case ScaleModeA::kGroup128: return "(M, K/128) column-major with column stride round_up(M, 4)";
  }
  return "?";
}

std::string scale_b_layout(ScaleModeB mode) {
  switch (mode) {
    case ScaleModeB::kTensor: return "one per tensor";
    case ScaleModeB::kChannel: return "one per row of b (N)";
    case ScaleModeB::kBlock128: return "(ceil(N/128), K/128) row-major with row stride round_up(K/128, 4)";
  }
  return "?";
}

void check_bias(const char* op, const std::optional<TensorView>& bias, std::int64_t n) {
  if (!bias) return;
  if (bias->dtype != DType::kFloat32 && bias->dtype != DType::kFloat16 && bias->dtype != DType::kBFloat16) {
    fail(fmt::format("{}: bias must be float, half or bfloat16, got {}", op, bias->describe()));
  }
  if (bias->rank != 1) fail(fmt::format("{}: bias must be a vector (rank 1) of N = {} values, got {}", op, n,
                                        bias->describe()));
  check_vector(op, "bias", *bias, n, true);
}

}  // namespace

bool cublaslt_supports_out(ScaleModeA mode_a, ScaleModeB mode_b, DType out) {
  return !(is_scaled_by_128(mode_a, mode_b) && out == DType::kFloat32);
}

bool cublaslt_supports_m(ScaleModeA mode_a, ScaleModeB mode_b, std::int64_t m) {
  return !is_scaled_by_128(mode_a, mode_b) || m % 4 == 0;
}

DType cublaslt_fp8_bias_dtype(DType out) { return out == DType::kFloat16 ? DType::kFloat16 : DType::kBFloat16; }

GemmShape check_scaled_mm_args(const TensorView& a, const TensorView& b, ScaleModeA mode_a,
                               const TensorView& scale_a, ScaleModeB mode_b, const TensorView& scale_b,
                               const TensorView& out, const std::optional<TensorView>& bias) {
  constexpr const char* op = "scaled_mm";
  require_dtype(op, "a", a, DType::kE4M3);
  require_dtype(op, "b", b, DType::kE4M3);
  require_rank2(op, "a", a);
  require_rank2(op, "b", b);
  if (b.size(1) != a.size(1)) {
    fail(fmt::format("scaled_mm: a (M, K) and b (N, K) must have the same K, got a {} and b {}", a.describe(),
                     b.describe()));
  }
  const GemmShape s{a.size(0), b.size(0), a.size(1)};
  try {  // the shape rules first: they explain a bad stride better than the stride rule does
    validate_gemm(s, mode_a, mode_b);
  } catch (const Error& e) {
    fail(fmt::format("scaled_mm: {}", e.what()));
  }
  require_row_major(op, "a", a);
  require_row_major(op, "b", b);
  validate_gemm_out_dtype(out.dtype);
  check_out(op, out, s);
  check_scale("scale_a", scale_a, scale_a_elems(mode_a, s.m, s.k), mode_a != ScaleModeA::kTensor,
              scale_a_layout(mode_a));
  check_scale("scale_b", scale_b, scale_b_elems(mode_b, s.n, s.k), mode_b != ScaleModeB::kTensor,
              scale_b_layout(mode_b));
  check_bias(op, bias, s.n);
  return s;
}

GemmShape check_mm_args(const TensorView& a, const TensorView& b, const TensorView& out,
                        const std::optional<TensorView>& bias) {
  constexpr const char* op = "mm";
  if (a.dtype != DType::kBFloat16 && a.dtype != DType::kFloat16) {
    fail(fmt::format("mm: a must be bfloat16 or half, got {}", a.describe()));
  }
  require_dtype(op, "b", b, a.dtype);
  require_rank2(op, "a", a);
  require_rank2(op, "b", b);
  if (b.size(1) != a.size(1)) {
    fail(fmt::format("mm: a (M, K) and b (N, K) must have the same K, got a {} and b {}", a.describe(), b.describe()));
  }
  const GemmShape s{a.size(0), b.size(0), a.size(1)};
  try {
    validate_gemm(s, ScaleModeA::kTensor, ScaleModeB::kTensor);
  } catch (const Error& e) {
    fail(fmt::format("mm: {}", e.what()));
  }
  require_row_major(op, "a", a);
  require_row_major(op, "b", b);
  if (out.dtype != a.dtype && out.dtype != DType::kFloat32) {
    fail(fmt::format("mm: out must be {} or float (cuBLASLt's datatype table), got {}", dtype_name(a.dtype),
                     out.describe()));
  }
  check_out(op, out, s);
  check_bias(op, bias, s.n);
  if (bias && bias->dtype != out.dtype) {
    fail(fmt::format("mm: bias must have the out dtype {} (cuBLASLt's datatype table), got {}", dtype_name(out.dtype),
                     bias->describe()));
  }
  return s;
}

void check_backend_rules(GemmBackend backend, ScaleModeA mode_a, ScaleModeB mode_b, DType out,
                         std::optional<DType> bias, const ScaledMmOptions& options, std::int64_t m) {
  if (options.fast_accum && is_scaled_by_128(mode_a, mode_b)) {
    fail(fmt::format("scaled_mm: fast_accum is refused with scale modes a={} b={}: 128-wide scales need promotion "
                     "of every K slice into fp32 (cuBLASLt and PyTorch refuse it too)",
                     scale_mode_name(mode_a), scale_mode_name(mode_b)));
  }
  if (!backend_supports(backend, mode_a, mode_b)) {
    fail(fmt::format("scaled_mm: backend {} does not support scale modes a={} b={}", gemm_backend_name(backend),
                     scale_mode_name(mode_a), scale_mode_name(mode_b)));
  }
  if (backend == GemmBackend::kCublasLt && !cublaslt_supports_out(mode_a, mode_b, out)) {
    fail(fmt::format("scaled_mm: backend cublaslt has no float out with scale modes a={} b={} (its block-scaled "
                     "kernels write bf16 or half only on Hopper); use bf16/half out or backend reference",
                     scale_mode_name(mode_a), scale_mode_name(mode_b)));
  }
  if (backend == GemmBackend::kCublasLt && !cublaslt_supports_m(mode_a, mode_b, m)) {
    fail(fmt::format("scaled_mm: backend cublaslt needs M % 4 == 0 with scale modes a={} b={} (its block-scaled "
                     "heuristic answered NOT_SUPPORTED for M = 1 and 45 on Hopper), got M = {}; use backend "
                     "reference or auto",
                     scale_mode_name(mode_a), scale_mode_name(mode_b), m));
  }
  if (backend == GemmBackend::kCublasLt && bias && *bias != cublaslt_fp8_bias_dtype(out)) {
    fail(fmt::format("scaled_mm: backend cublaslt needs a {} bias for {} out (cuBLASLt's FP8 datatype table), got "
                     "{}; use backend reference for other bias dtypes",
                     dtype_name(cublaslt_fp8_bias_dtype(out)), dtype_name(out), dtype_name(*bias)));
  }
}

QuantSpec linear_quant_spec(ScaleModeA act) {
  QuantSpec spec;
  switch (act) {
    case ScaleModeA::kTensor: spec.granularity = Granularity::kPerTensor; break;
    case ScaleModeA::kToken: spec.granularity = Granularity::kPerToken; break;
    case ScaleModeA::kGroup128:
      spec.granularity = Granularity::kPerGroup;
      spec.group_size = 128;
      spec.layout = ScaleLayout::kColMajorTmaAligned;
      break;
  }
  return spec;
}

}  // namespace fp8kit::ops
