// Inputs and output checks of `fp8kit bench quant`: host-side, so they are tested without a GPU.
// A benchmark number from an unverified output is a defect (DESIGN.md §6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ref_quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {

enum class InputKind {
  kNormal,       // N(0, 1), the study's input
  kAdversarial,  // 128-column stretches cycle through: all zero, tiny (below the scale floor),
                 // huge outliers, E4M3 rounding midpoints beside a 448, mixed-sign wide ranges
};

// A contiguous (rows, cols) host matrix of `dtype` (fp32, fp16 or bf16) as raw bytes; the same
// seed gives the same bytes.
std::vector<std::byte> make_quant_input(DType dtype, std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                                        InputKind kind);

// A seed per shape derived from the run's seed, so one printed seed reproduces every input.
std::uint64_t shape_seed(std::uint64_t run_seed, std::int64_t m, std::int64_t h);

// The first difference between a device result (q: rows x cols codes row-major, scales: the
// whole scale buffer) and the reference, bit for bit, or nullopt when they are equal:
// "q[row 3, col 17] = 0x3c, expected 0x3d", "scale[row 2, col 5] = 0.0123 (0x3c4985f0),
// expected ...", "scale padding [130] = ..., expected 0 (0x00000000)".
std::optional<std::string> first_mismatch(const ref::QuantOutput& expected, std::int64_t rows, std::int64_t cols,
                                          std::span<const std::uint8_t> q, std::span<const float> scales);

}  // namespace fp8kit::bench
