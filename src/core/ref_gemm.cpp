#include "core/ref_gemm.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/fp8_codec.hpp"
#include "core/gemm_spec.hpp"

namespace fp8kit::ref {
namespace {

// Rows of A and of B dequantized at a time: bounds memory for large shapes at the cost of
// re-dequantizing B once per row tile of A (1/kTileRows of the multiply work).
constexpr std::int64_t kTileRows = 32;

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorKind::kInvalidArgument, message);
}

std::string str(std::int64_t v) { return std::to_string(v); }

void check_shape(const GemmShape& s) {
  if (s.m < 0 || s.n < 0 || s.k < 0) {
    fail("GEMM shape must be non-negative, got M=" + str(s.m) + " N=" + str(s.n) +
         " K=" + str(s.k));
  }
}

// A (rows, cols) matrix with row stride ld must fit in `have` elements.
void check_matrix(const char* name, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                  std::size_t have) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) {
    fail(std::string("ld") + name + " must be >= K (" + str(cols) + "), got " + str(ld));
  }
  const std::int64_t need = (rows - 1) * ld + cols;
  if (static_cast<std::int64_t>(have) < need) {
    fail(std::string(name) + " holds " + std::to_string(have) + " elements, (" + str(rows) +
         ", " + str(cols) + ") with ld " + str(ld) + " needs " + str(need));
  }
}

void check_count(const char* name, std::size_t have, std::int64_t need) {
  if (static_cast<std::int64_t>(have) < need) {
    fail(std::string(name) + " holds " + std::to_string(have) + " values, needs " + str(need));
  }
}

void check_bias(std::span<const float> bias, std::int64_t n) {
  if (!bias.empty() && static_cast<std::int64_t>(bias.size()) != n) {
    fail("bias must be empty or hold N=" + str(n) + " values, got " +
         std::to_string(bias.size()));
  }
}

std::size_t out_elem_size(DType dtype) {
  validate_gemm_out_dtype(dtype);
  return dtype == DType::kFloat32 ? 4 : 2;
}

std::size_t idx(std::int64_t i) { return static_cast<std::size_t>(i); }

// IEEE double -> fp32 with round to nearest even, overflow to ±Inf spelled out: a C++ cast of an
// out-of-range value is undefined.
float to_float(double x) {
  // Halfway between FLT_MAX and 2^128: from here on RNE rounds to Inf.
  constexpr double kOverflow = 0x1.ffffffp+127;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  if (std::fabs(x) >= kOverflow) return x > 0 ? kInf : -kInf;
  return static_cast<float>(x);
}

double read_elem(const std::byte* p, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      std::uint16_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return dtype == DType::kFloat16 ? half_to_float(bits) : bf16_to_float(bits);
    }
    default: break;
  }
  fail("unsupported dtype");  // unreachable: callers validate first
}

// Σ over K of two dequantized tiles, then bias: the one accumulation both GEMMs share.
// a_tile (a_rows, K), b_tile (b_rows, K), dense.
void multiply_tiles(const std::vector<double>& a_tile, std::int64_t m0, std::int64_t a_rows,
                    const std::vector<double>& b_tile, std::int64_t n0, std::int64_t b_rows,
                    const GemmShape& s, std::span<const float> bias, std::vector<double>& d) {
  for (std::int64_t i = 0; i < a_rows; ++i) {
    const double* a_row = a_tile.data() + i * s.k;
    for (std::int64_t j = 0; j < b_rows; ++j) {
      const double* b_row = b_tile.data() + j * s.k;
      double acc = 0.0;
      for (std::int64_t kk = 0; kk < s.k; ++kk) acc += a_row[kk] * b_row[kk];
      if (!bias.empty()) acc += bias[idx(n0 + j)];
      d[idx((m0 + i) * s.n + n0 + j)] = acc;
    }
  }
}

// Tiles over M and N; fill(tile, first_row, rows, is_a) dequantizes rows of A or B into a dense
// (rows, K) double tile.
template <typename Fill>
std::vector<double> tiled_product(const GemmShape& s, std::span<const float> bias, Fill fill) {
  std::vector<double> d(idx(s.m * s.n));
  std::vector<double> a_tile(idx(kTileRows * s.k));
  std::vector<double> b_tile(idx(kTileRows * s.k));
  for (std::int64_t m0 = 0; m0 < s.m; m0 += kTileRows) {
    const std::int64_t a_rows = std::min(kTileRows, s.m - m0);
    fill(a_tile, m0, a_rows, true);
    for (std::int64_t n0 = 0; n0 < s.n; n0 += kTileRows) {
      const std::int64_t b_rows = std::min(kTileRows, s.n - n0);
      fill(b_tile, n0, b_rows, false);
      multiply_tiles(a_tile, m0, a_rows, b_tile, n0, b_rows, s, bias, d);
    }
  }
  return d;
}

}  // namespace

std::vector<double> scaled_gemm(const ScaledGemmInputs& in) {
  const GemmShape& s = in.shape;
  check_shape(s);
  check_bias(in.bias, s.n);
  if (s.m == 0) return {};
  check_matrix("a", s.m, s.k, in.lda, in.a.size());
  check_matrix("b", s.n, s.k, in.ldb, in.b.size());
  check_count("scale_a", in.scale_a.size(), scale_a_elems(in.mode_a, s.m, s.k));
  check_count("scale_b", in.scale_b.size(), scale_b_elems(in.mode_b, s.n, s.k));

  std::array<double, 256> e4m3{};
  for (std::size_t c = 0; c < e4m3.size(); ++c) e4m3[c] = e4m3_to_float(static_cast<std::uint8_t>(c));

  const std::int64_t a_scale_ld = group128_scale_ld(s.m);
  const std::int64_t b_scale_ld = block128_scale_ld(s.k);
  auto scale_a = [&](std::int64_t m, std::int64_t k) -> double {
    switch (in.mode_a) {
      case ScaleModeA::kTensor: return in.scale_a[0];
      case ScaleModeA::kToken: return in.scale_a[idx(m)];
      case ScaleModeA::kGroup128: return in.scale_a[idx(k / kGemmScaleBlock * a_scale_ld + m)];
    }
    fail("unknown ScaleModeA");
  };
  auto scale_b = [&](std::int64_t n, std::int64_t k) -> double {
    switch (in.mode_b) {
      case ScaleModeB::kTensor: return in.scale_b[0];
      case ScaleModeB::kChannel: return in.scale_b[idx(n)];
      case ScaleModeB::kBlock128:
        return in.scale_b[idx(n / kGemmScaleBlock * b_scale_ld + k / kGemmScaleBlock)];
    }
    fail("unknown ScaleModeB");
  };
  // code · scale is exact in double (4 + 24 significant bits), so dequantizing first changes
  // nothing; only the product of the two sides and the sum round.
  auto fill = [&](std::vector<double>& tile, std::int64_t row0, std::int64_t rows, bool is_a) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t row = row0 + r;
      const std::uint8_t* codes =
          is_a ? in.a.data() + row * in.lda : in.b.data() + row * in.ldb;
      double* dst = tile.data() + r * s.k;
      for (std::int64_t k = 0; k < s.k; ++k) {
        dst[k] = e4m3[codes[k]] * (is_a ? scale_a(row, k) : scale_b(row, k));
      }
    }
  };
  return tiled_product(s, in.bias, fill);
}

std::vector<double> gemm(const GemmInputs& in) {
  const GemmShape& s = in.shape;
  check_shape(s);
  check_bias(in.bias, s.n);
  if (in.dtype != DType::kFloat32 && in.dtype != DType::kFloat16 &&
      in.dtype != DType::kBFloat16) {
    fail("plain GEMM inputs must be float, half or bfloat16");
  }
  if (s.m == 0) return {};
  const std::size_t elem = in.dtype == DType::kFloat32 ? 4 : 2;
  check_matrix("a", s.m, s.k, in.lda, in.a.size() / elem);
  check_matrix("b", s.n, s.k, in.ldb, in.b.size() / elem);

  auto fill = [&](std::vector<double>& tile, std::int64_t row0, std::int64_t rows, bool is_a) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t row = row0 + r;
      const std::byte* src = is_a ? in.a.data() + idx(row * in.lda) * elem
                                  : in.b.data() + idx(row * in.ldb) * elem;
      double* dst = tile.data() + r * s.k;
      for (std::int64_t k = 0; k < s.k; ++k) dst[k] = read_elem(src + idx(k) * elem, in.dtype);
    }
  };
  return tiled_product(s, in.bias, fill);
}

void store(std::span<const double> d, std::int64_t m, std::int64_t n, DType out,
           std::span<std::byte> dst, std::int64_t ldd) {
  const std::size_t elem = out_elem_size(out);
  if (m < 0 || n < 0) fail("store: M and N must be non-negative");
  check_count("d", d.size(), m * n);
  if (m == 0 || n == 0) return;
  if (ldd < n) fail("ldd must be >= N (" + str(n) + "), got " + str(ldd));
  check_count("dst (bytes)", dst.size(), ((m - 1) * ldd + n) * static_cast<std::int64_t>(elem));
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      const float v = to_float(d[idx(i * n + j)]);
      std::byte* p = dst.data() + idx(i * ldd + j) * elem;
      if (out == DType::kFloat32) {
        std::memcpy(p, &v, sizeof v);
      } else {
        const std::uint16_t bits = out == DType::kFloat16 ? half_from_float(v) : bf16_from_float(v);
        std::memcpy(p, &bits, sizeof bits);
      }
    }
  }
}

std::vector<std::byte> store(std::span<const double> d, std::int64_t m, std::int64_t n,
                             DType out) {
  const std::size_t elem = out_elem_size(out);
  if (m < 0 || n < 0) fail("store: M and N must be non-negative");
  std::vector<std::byte> bytes(idx(m * n) * elem);
  store(d, m, n, out, bytes, n);
  return bytes;
}

std::vector<double> load(std::span<const std::byte> src, std::int64_t m, std::int64_t n,
                         DType dtype, std::int64_t ldd) {
  const std::size_t elem = out_elem_size(dtype);
  if (m < 0 || n < 0) fail("load: M and N must be non-negative");
  std::vector<double> d(idx(m * n));
  if (m == 0 || n == 0) return d;
  if (ldd < n) fail("ldd must be >= N (" + str(n) + "), got " + str(ldd));
  check_count("src (bytes)", src.size(), ((m - 1) * ldd + n) * static_cast<std::int64_t>(elem));
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      d[idx(i * n + j)] = read_elem(src.data() + idx(i * ldd + j) * elem, dtype);
    }
  }
  return d;
}

double relative_error(std::span<const double> ref, std::span<const double> out) {
  if (ref.size() != out.size()) {
    fail("relative_error: ref has " + std::to_string(ref.size()) + " values, out has " +
         std::to_string(out.size()));
  }
  double diff_sq = 0.0;
  double ref_sq = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    // NaN - x and Inf - Inf are NaN, Inf - x is Inf: both carry through the sums.
    const double diff = out[i] - ref[i];
    diff_sq += diff * diff;
    ref_sq += ref[i] * ref[i];
  }
  if (std::isnan(diff_sq) || std::isnan(ref_sq)) return std::numeric_limits<double>::quiet_NaN();
  if (ref_sq == 0.0) return diff_sq == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff_sq) / std::sqrt(ref_sq);
}

double relative_error(std::span<const double> ref, std::int64_t m, std::int64_t n, DType dtype,
                      std::span<const std::byte> out, std::int64_t ldd) {
  return relative_error(ref, load(out, m, n, dtype, ldd));
}

}  // namespace fp8kit::ref
