#include "core/gemm_spec.hpp"

#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, message);
}

void require_non_negative(const char* what, std::int64_t value) {
  if (value < 0) fail(std::string(what) + " must be >= 0, got " + std::to_string(value));
}

}  // namespace

std::string_view scale_mode_name(ScaleModeA m) {
  switch (m) {
    case ScaleModeA::kTensor: return "tensor";
    case ScaleModeA::kToken: return "token";
    case ScaleModeA::kGroup128: return "group128";
  }
  fail("unknown ScaleModeA value " + std::to_string(static_cast<int>(m)));
}

std::string_view scale_mode_name(ScaleModeB m) {
  switch (m) {
    case ScaleModeB::kTensor: return "tensor";
    case ScaleModeB::kChannel: return "channel";
    case ScaleModeB::kBlock128: return "block128";
  }
  fail("unknown ScaleModeB value " + std::to_string(static_cast<int>(m)));
}

std::int64_t group128_scale_ld(std::int64_t m) {
  require_non_negative("M", m);
  return round_up(m, 4);
}

std::int64_t block128_scale_ld(std::int64_t k) {
  require_non_negative("K", k);
  return round_up(ceil_div(k, kGemmScaleBlock), 4);
}

// K/128 is rounded up so that the reference can describe a ragged K; the GEMM itself requires
// K % 128 == 0 (validate_gemm), where both agree.
std::int64_t scale_a_elems(ScaleModeA mode, std::int64_t m, std::int64_t k) {
  require_non_negative("M", m);
  require_non_negative("K", k);
  switch (mode) {
    case ScaleModeA::kTensor: return 1;
    case ScaleModeA::kToken: return m;
    case ScaleModeA::kGroup128: return ceil_div(k, kGemmScaleBlock) * group128_scale_ld(m);
  }
  fail("unknown ScaleModeA value " + std::to_string(static_cast<int>(mode)));
}

std::int64_t scale_b_elems(ScaleModeB mode, std::int64_t n, std::int64_t k) {
  require_non_negative("N", n);
  require_non_negative("K", k);
  switch (mode) {
    case ScaleModeB::kTensor: return 1;
    case ScaleModeB::kChannel: return n;
    case ScaleModeB::kBlock128: return ceil_div(n, kGemmScaleBlock) * block128_scale_ld(k);
  }
  fail("unknown ScaleModeB value " + std::to_string(static_cast<int>(mode)));
}

bool is_scaled_by_128(ScaleModeA a, ScaleModeB b) {
  return a == ScaleModeA::kGroup128 || b == ScaleModeB::kBlock128;
}

void validate_gemm(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b) {
  const std::string pair = "scale modes a=" + std::string(scale_mode_name(mode_a)) +
                           " b=" + std::string(scale_mode_name(mode_b));
  require_non_negative("M", shape.m);
  if (shape.n <= 0 || shape.n % kGemmDimAlign != 0) {
    fail("N must be a positive multiple of 16 (TMA needs 16-byte row strides), got " +
         std::to_string(shape.n));
  }
  if (shape.k <= 0 || shape.k % kGemmDimAlign != 0) {
    fail("K must be a positive multiple of 16 (TMA needs 16-byte row strides), got " +
         std::to_string(shape.k));
  }
  if (is_scaled_by_128(mode_a, mode_b) && shape.k % kGemmScaleBlock != 0) {
    fail("K must be a multiple of 128 with " + pair + " (one scale per 128-wide K slice), got " +
         std::to_string(shape.k));
  }
}

void validate_gemm_out_dtype(DType out) {
  switch (out) {
    case DType::kFloat32:
    case DType::kFloat16:
    case DType::kBFloat16: return;
    case DType::kE4M3:
      fail("out dtype must be float, half or bfloat16, got e4m3");
    case DType::kE5M2:
      fail("out dtype must be float, half or bfloat16, got e5m2");
  }
  fail("out dtype must be float, half or bfloat16, got dtype code " +
       std::to_string(static_cast<int>(out)));
}

}  // namespace fp8kit
