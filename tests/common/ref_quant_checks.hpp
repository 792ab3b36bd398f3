// Shared by the CPU reference quantizer's tests (tests/cpu/core/test_ref_quant*.cpp): specs, a
// runner on contiguous fp32 input, and bit-exact comparisons of codes and scales.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/ref_quant.hpp"

namespace fp8kit::test {

using Codes = std::vector<std::uint8_t>;
using Floats = std::vector<float>;

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// 1 / (448 * 512) = 1 / 229376, the floor of every dynamic scale.
inline const float kFloor = 1.0f / 229376.0f;

template <typename F>
inline void expect_invalid(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' missing from: " << e.what();
    }
  }
}

inline QuantSpec spec_of(Granularity g) {
  QuantSpec s;
  s.granularity = g;
  return s;
}

inline QuantSpec per_group(int g, ScaleLayout layout) {
  QuantSpec s = spec_of(Granularity::kPerGroup);
  s.group_size = g;
  s.layout = layout;
  return s;
}

// Quantizes a contiguous fp32 matrix given row by row.
inline ref::QuantOutput run(const QuantSpec& spec, std::int64_t rows, std::int64_t cols, const Floats& x,
                     std::span<const float> static_scales = {}) {
  return ref::quantize(x.data(), DType::kFloat32, rows, cols, cols, spec, static_scales);
}

// Compares scales bit for bit (padding zeros and Inf included).
inline void expect_scales(const Floats& got, const Floats& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(want[i]))
        << "scale " << i << ": got " << got[i] << ", want " << want[i];
  }
}

inline void expect_codes(const Codes& got, const Codes& want, std::int64_t cols) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(int(got[i]), int(want[i]))
        << "element (" << std::int64_t(i) / cols << ", " << std::int64_t(i) % cols << ")";
  }
}
}  // namespace fp8kit::test
