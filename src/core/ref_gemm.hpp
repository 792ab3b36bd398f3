// CPU reference GEMMs (DESIGN.md §3): the oracle every GEMM backend is compared against.
// Products of dequantized values are summed in double, in ascending K order, so a result depends
// only on the inputs. Matrices are row-major; leading dimensions are in elements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::ref {

// D = A · Bᵀ + bias with A (M, K) and B (N, K) in E4M3 and fp32 scales in the layouts of
// fp8kit/gemm.hpp: D[m][n] = Σ_k a(m,k)·sa(m,k)·b(n,k)·sb(n,k) + bias[n], where sa/sb are looked
// up per element (group128: scale (m, k/128); block128: scale (n/128, k/128)). Any K is
// accepted (a ragged last slice uses its own scale); backends check validate_gemm().
struct ScaledGemmInputs {
  GemmShape shape;
  ScaleModeA mode_a = ScaleModeA::kTensor;
  ScaleModeB mode_b = ScaleModeB::kTensor;
  std::span<const std::uint8_t> a;  // (M, K) codes, row stride lda
  std::int64_t lda = 0;
  std::span<const std::uint8_t> b;  // (N, K) codes, row stride ldb
  std::int64_t ldb = 0;
  std::span<const float> scale_a;   // at least scale_a_elems(mode_a, M, K) values
  std::span<const float> scale_b;   // at least scale_b_elems(mode_b, N, K) values
  std::span<const float> bias;      // empty, or N values
};

// The plain GEMM of the BF16 baseline: same contract with unscaled bf16/fp16/fp32 inputs.
struct GemmInputs {
  GemmShape shape;
  DType dtype = DType::kBFloat16;  // of A and B
  std::span<const std::byte> a;    // (M, K), row stride lda elements
  std::int64_t lda = 0;
  std::span<const std::byte> b;    // (N, K), row stride ldb elements
  std::int64_t ldb = 0;
  std::span<const float> bias;     // empty, or N values
};

// Both return D (M, N) with leading dimension N; M = 0 gives an empty vector. Bad sizes, strides
// or spans too short for them throw fp8kit::Error(kInvalidArgument) naming the argument.
std::vector<double> scaled_gemm(const ScaledGemmInputs& in);
std::vector<double> gemm(const GemmInputs& in);

// Writes D (M, N, dense) as `out` (float, half, bfloat16) into dst with leading dimension ldd;
// elements between N and ldd are left untouched. Each value is rounded double -> fp32 -> out:
// the GPU epilogue converts an fp32 accumulator, so the reference rounds the same way (the double
// rounding can differ from a direct double -> bf16 rounding in the last bit, rarely).
void store(std::span<const double> d, std::int64_t m, std::int64_t n, DType out,
           std::span<std::byte> dst, std::int64_t ldd);
std::vector<std::byte> store(std::span<const double> d, std::int64_t m, std::int64_t n,
                             DType out);  // ldd = N

// Reads an (M, N) float/half/bfloat16 matrix with leading dimension ldd back as dense double.
std::vector<double> load(std::span<const std::byte> src, std::int64_t m, std::int64_t n,
                         DType dtype, std::int64_t ldd);

// ‖out − ref‖₂ / ‖ref‖₂ over equally sized dense matrices. A NaN anywhere gives NaN and an Inf
// gives Inf or NaN, so `relative_error(...) < tol` fails; a zero ref gives 0 only for out == ref.
double relative_error(std::span<const double> ref, std::span<const double> out);
double relative_error(std::span<const double> ref, std::int64_t m, std::int64_t n, DType dtype,
                      std::span<const std::byte> out, std::int64_t ldd);

}  // namespace fp8kit::ref
