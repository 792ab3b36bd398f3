// Inputs and output checks of `fp8kit bench gemm`, host-side so they are tested without a GPU.
// A benchmark number from an unverified output is a defect (DESIGN.md §6).
//
// Verification (before timing): each provider's bf16 output is compared with an exact product of
// the very operands it multiplied, rounded to bf16 as the GPU epilogue rounds (double -> fp32 ->
// bf16, ref::store). What may differ is only the fp32 accumulation order of the GPU and, for FP8
// without promotion, the tensor core's shorter accumulator, which flip a few outputs by one bf16
// ulp: the norm-wise relative error then stays below kVerifyTolerance (1e-3; an element in the
// wrong place, a wrong scale or a missed K slice gives errors of order 1), plus one flip of the
// largest output, which alone can reach 1e-3 in a one-row output. With --fast-accum
// the non-block FP8 providers accumulate a whole K in the tensor core's ~22-bit accumulator, so
// the tolerance is kFastAccumTolerance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/gemm_plan.hpp"
#include "core/ref_gemm.hpp"

namespace fp8kit::bench {

constexpr double kVerifyTolerance = 1e-3;
constexpr double kFastAccumTolerance = 2e-2;
// At or below this many multiply-adds (M·N·K) a shape is verified on the CPU in full; above, the
// FP8 providers are compared with the reference backend's output on identical quantized inputs,
// the reference backend itself (and the BF16 baseline) on kSampleRows rows against the CPU.
constexpr std::int64_t kCpuVerifyMacs = std::int64_t{1} << 31;
constexpr std::int64_t kSampleRows = 16;

// A contiguous (rows, cols) bf16 matrix as raw bytes, N(0, 1); with kOutliers, the columns of
// outlier_channels(cols, seed) are scaled by kOutlierGain. Row r depends only on (seed, r / 64),
// so a prefix of rows is the same matrix with fewer rows and generation runs in parallel.
std::vector<std::byte> make_gemm_input(std::int64_t rows, std::int64_t cols, ActDist dist, std::uint64_t seed);
// The outlier channels: max(1, round(cols · kOutlierChannelFraction)) distinct columns, sorted.
std::vector<std::int64_t> outlier_channels(std::int64_t cols, std::uint64_t seed);

// The rows the accuracy (and, for large shapes, the CPU check) covers: all rows when m <= max_rows,
// else max_rows rows spread evenly from the first to the last.
std::vector<std::int64_t> sample_rows(std::int64_t m, std::int64_t max_rows);

// The listed rows of a row-major matrix with `row_bytes` bytes per row, packed.
std::vector<std::byte> gather_rows(std::span<const std::byte> src, std::size_t row_bytes,
                                   std::span<const std::int64_t> rows);

// Quantized activations on the host: (m, K) codes and scales in the layout of fp8kit/gemm.hpp.
struct HostScaledA {
  std::int64_t m = 0, k = 0;
  ScaleModeA mode = ScaleModeA::kTensor;
  std::vector<std::uint8_t> codes;
  std::vector<float> scales;
};
// The listed rows of `a` with their scales re-laid for the new row count (group128 scales are
// column-major with a leading dimension that depends on M).
HostScaledA select_rows(const HostScaledA& a, std::span<const std::int64_t> rows);

// ref::gemm / ref::scaled_gemm with the rows of A split across threads (same result: every output
// is one ascending-K sum in double). `a` is (m, K) dense.
std::vector<double> parallel_gemm(std::span<const std::byte> a, std::int64_t m, std::span<const std::byte> b,
                                  std::int64_t n, std::int64_t k);  // bf16 inputs
std::vector<double> parallel_scaled_gemm(const HostScaledA& a, std::span<const std::uint8_t> b_codes,
                                         ScaleModeB mode_b, std::span<const float> scale_b, std::int64_t n);

// Compares a bf16 (rows, n) output with an exact product: the first non-finite output, or a
// relative error (after rounding `expected` to bf16) at or above `tolerance` plus one bf16 ulp of
// the largest |expected| (over its norm), gives a message
// naming `against` and the worst element; nullopt when they agree.
std::optional<std::string> check_output(std::span<const double> expected, std::span<const std::byte> got,
                                        std::int64_t rows, std::int64_t n, double tolerance, std::string_view against,
                                        std::span<const std::int64_t> row_ids = {});
// The same for two bf16 outputs of equal size (a backend against the reference backend).
std::optional<std::string> check_output_bf16(std::span<const std::byte> expected, std::span<const std::byte> got,
                                             std::int64_t rows, std::int64_t n, double tolerance,
                                             std::string_view against);

}  // namespace fp8kit::bench
