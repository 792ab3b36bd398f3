#include "bench/quant_verify.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "core/fp8_codec.hpp"

namespace fp8kit::bench {
namespace {

// splitmix64's finalizer: decorrelates neighbouring shapes' seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void store(std::byte* out, DType dtype, std::int64_t i, float v) {
  switch (dtype) {
    case DType::kFloat32:
      std::memcpy(out + i * 4, &v, 4);
      return;
    case DType::kFloat16:
    case DType::kBFloat16: {
      const std::uint16_t bits = dtype == DType::kFloat16 ? half_from_float(v) : bf16_from_float(v);
      std::memcpy(out + i * 2, &bits, 2);
      return;
    }
    default:
      throw_invalid_argument(fmt::format("make_quant_input: {} is not an input dtype", dtype_name(dtype)));
  }
}

// The pattern changes every 128 columns and every row, so even M = 1 sees all five and every 1xG
// group (G <= 128, aligned) lies inside one pattern.
float adversarial_value(std::int64_t row, std::int64_t col, std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  switch ((row + col / 128) % 5) {
    case 0:
      return 0.0f;
    case 1:
      return normal(rng) * 1e-7f;  // amax far below 448 * kMinDynamicScale: the scale floor applies
    case 2:
      return col % 29 == 0 ? (col % 2 ? -30000.0f : 30000.0f) : normal(rng);  // outliers (fit fp16)
    case 3: {
      if (col % 32 == 0) return 448.0f;  // scale 1 for every group that holds it
      // Halfway between two neighbouring E4M3 codes: ties to even decide the byte.
      const auto code = static_cast<std::uint8_t>(rng() % 0x7E);
      const float mid = 0.5f * (e4m3_to_float(code) + e4m3_to_float(static_cast<std::uint8_t>(code + 1)));
      return (col % 3 == 0) ? -mid : mid;
    }
    default:
      return std::ldexp(normal(rng), static_cast<int>(rng() % 24) - 12);  // values over 2^24 of range
  }
}

std::string describe_float(float v) { return fmt::format("{} (0x{:08x})", v, std::bit_cast<std::uint32_t>(v)); }

}  // namespace

std::uint64_t shape_seed(std::uint64_t run_seed, std::int64_t m, std::int64_t h) {
  return mix(run_seed ^ mix(static_cast<std::uint64_t>(m) * 0x100000001B3ull + static_cast<std::uint64_t>(h)));
}

std::vector<std::byte> make_quant_input(DType dtype, std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                                        InputKind kind) {
  const std::int64_t n = rows * cols;
  std::vector<std::byte> out(static_cast<std::size_t>(n) * dtype_size(dtype));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const float v = kind == InputKind::kNormal ? normal(rng) : adversarial_value(r, c, rng);
      store(out.data(), dtype, r * cols + c, v);
    }
  }
  return out;
}

std::optional<std::string> first_mismatch(const ref::QuantOutput& expected, std::int64_t rows, std::int64_t cols,
                                          std::span<const std::uint8_t> q, std::span<const float> scales) {
  const auto elems = static_cast<std::size_t>(rows * cols);
  if (q.size() != elems || expected.q.size() != elems) {
    return fmt::format("q has {} codes, expected {}", q.size(), expected.q.size());
  }
  if (scales.size() != expected.scales.size()) {
    return fmt::format("scale buffer has {} values, expected {}", scales.size(), expected.scales.size());
  }
  for (std::size_t i = 0; i < elems; ++i) {
    if (q[i] != expected.q[i]) {
      return fmt::format("q[row {}, col {}] = 0x{:02x}, expected 0x{:02x}", static_cast<std::int64_t>(i) / cols,
                         static_cast<std::int64_t>(i) % cols, q[i], expected.q[i]);
    }
  }
  // Scales compare as bits: the reference defines them exactly, NaN patterns included.
  auto same = [&](std::size_t i) {
    return std::bit_cast<std::uint32_t>(scales[i]) == std::bit_cast<std::uint32_t>(expected.scales[i]);
  };
  const ScaleGeometry& g = expected.geometry;
  std::vector<bool> logical(scales.size(), false);
  for (std::int64_t r = 0; r < g.rows; ++r) {
    for (std::int64_t c = 0; c < g.cols; ++c) {
      const auto i = static_cast<std::size_t>(g.offset(r, c));
      if (i >= scales.size()) return fmt::format("scale[row {}, col {}] lies outside the buffer", r, c);
      logical[i] = true;
      if (!same(i)) {
        return fmt::format("scale[row {}, col {}] = {}, expected {}", r, c, describe_float(scales[i]),
                           describe_float(expected.scales[i]));
      }
    }
  }
  for (std::size_t i = 0; i < scales.size(); ++i) {
    if (!logical[i] && !same(i)) {
      return fmt::format("scale padding [{}] = {}, expected {}", i, describe_float(scales[i]),
                         describe_float(expected.scales[i]));
    }
  }
  return std::nullopt;
}

}  // namespace fp8kit::bench
