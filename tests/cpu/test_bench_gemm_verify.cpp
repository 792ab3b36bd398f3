// `fp8kit bench gemm`'s host inputs and output checks (bench/gemm_verify): reproducible inputs,
// the parallel CPU references, and the norm-wise comparison with its one-flip allowance.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "bench/gemm_verify.hpp"
#include "core/fp8_codec.hpp"
#include "core/gemm_spec.hpp"
#include "core/ref_gemm.hpp"

namespace fp8kit::bench {
namespace {

float bf16_at(const std::vector<std::byte>& m, std::size_t i) {
  std::uint16_t v;
  std::memcpy(&v, m.data() + 2 * i, 2);
  return bf16_to_float(v);
}

TEST(BenchGemmVerify, InputsAreReproducibleAndPrefixesOfEachOther) {
  const auto a = make_gemm_input(200, 256, ActDist::kNormal, 7);
  EXPECT_EQ(a, make_gemm_input(200, 256, ActDist::kNormal, 7));
  EXPECT_NE(a, make_gemm_input(200, 256, ActDist::kNormal, 8));
  const auto prefix = make_gemm_input(70, 256, ActDist::kNormal, 7);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), a.begin()));
}

TEST(BenchGemmVerify, OutliersScaleAFewChannels) {
  const std::int64_t rows = 64, cols = 1024;
  const auto channels = outlier_channels(cols, 3);
  EXPECT_EQ(channels.size(), 4u);  // 1024 / 256
  EXPECT_TRUE(std::is_sorted(channels.begin(), channels.end()));
  EXPECT_EQ(outlier_channels(100, 3).size(), 1u);  // at least one
  const auto normal = make_gemm_input(rows, cols, ActDist::kNormal, 3);
  const auto outl = make_gemm_input(rows, cols, ActDist::kOutliers, 3);
  double in = 0, out = 0;
  for (std::int64_t c = 0; c < cols; ++c) {
    const bool is_outlier = std::find(channels.begin(), channels.end(), c) != channels.end();
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto i = static_cast<std::size_t>(r * cols + c);
      if (is_outlier) {
        out += std::fabs(bf16_at(outl, i));
        in += std::fabs(bf16_at(normal, i));
      } else {
        ASSERT_EQ(bf16_at(outl, i), bf16_at(normal, i));
      }
    }
  }
  EXPECT_NEAR(out / in, kOutlierGain, 0.5);
}

TEST(BenchGemmVerify, SampleRows) {
  EXPECT_EQ(sample_rows(3, 16), (std::vector<std::int64_t>{0, 1, 2}));
  const auto rows = sample_rows(4096, 16);
  ASSERT_EQ(rows.size(), 16u);
  EXPECT_EQ(rows.front(), 0);
  EXPECT_EQ(rows.back(), 4095);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  EXPECT_EQ(std::adjacent_find(rows.begin(), rows.end()), rows.end());
}

// Small random FP8 operands with scales in every mode.
HostScaledA random_a(ScaleModeA mode, std::int64_t m, std::int64_t k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  HostScaledA a{m, k, mode, {}, {}};
  for (std::int64_t i = 0; i < m * k; ++i) a.codes.push_back(static_cast<std::uint8_t>(rng() % 0x7E + (rng() % 2) * 0x80));
  for (std::int64_t i = 0; i < scale_a_elems(mode, m, k); ++i) a.scales.push_back(std::ldexp(1.0f, static_cast<int>(rng() % 5) - 8));
  return a;
}

TEST(BenchGemmVerify, ParallelScaledGemmAndSelectedRowsMatchTheReference) {
  const std::int64_t m = 37, n = 48, k = 256;
  for (ScaleModeA mode : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
    const HostScaledA a = random_a(mode, m, k, 11);
    const HostScaledA b = random_a(ScaleModeA::kGroup128, n, k, 12);  // codes only
    std::vector<float> sb(static_cast<std::size_t>(scale_b_elems(ScaleModeB::kBlock128, n, k)), 0.5f);
    sb[0] = 0.25f;
    ref::ScaledGemmInputs in{{m, n, k}, mode, ScaleModeB::kBlock128, a.codes, k, b.codes, k, a.scales, sb, {}};
    const std::vector<double> full = ref::scaled_gemm(in);
    EXPECT_EQ(parallel_scaled_gemm(a, b.codes, ScaleModeB::kBlock128, sb, n), full) << scale_mode_name(mode);
    const std::vector<std::int64_t> rows = {0, 5, 36};
    const std::vector<double> part = parallel_scaled_gemm(select_rows(a, rows), b.codes, ScaleModeB::kBlock128, sb, n);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        ASSERT_EQ(part[i * n + static_cast<std::size_t>(j)], full[static_cast<std::size_t>(rows[i] * n + j)]);
      }
    }
  }
}

TEST(BenchGemmVerify, ParallelGemmMatchesTheReference) {
  const std::int64_t m = 19, n = 32, k = 64;
  const auto a = make_gemm_input(m, k, ActDist::kNormal, 1);
  const auto b = make_gemm_input(n, k, ActDist::kNormal, 2);
  const ref::GemmInputs in{{m, n, k}, DType::kBFloat16, a, k, b, k, {}};
  EXPECT_EQ(parallel_gemm(a, m, b, n, k), ref::gemm(in));
}

TEST(BenchGemmVerify, CheckOutputAcceptsRoundedAndCatchesWrongOrNaN) {
  const std::int64_t rows = 4, n = 32;
  std::vector<double> expected(static_cast<std::size_t>(rows * n));
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = std::sin(static_cast<double>(i)) * 100.0 + 0.001;
  std::vector<std::byte> got = ref::store(expected, rows, n, DType::kBFloat16);
  EXPECT_FALSE(check_output(expected, got, rows, n, kVerifyTolerance, "x"));
  EXPECT_FALSE(check_output_bf16(got, got, rows, n, kVerifyTolerance, "x"));
  // One element off by 2x: the error is large and the message names it.
  std::vector<std::byte> wrong = got;
  const std::uint16_t big = bf16_from_float(static_cast<float>(expected[37] * 2));
  std::memcpy(wrong.data() + 2 * 37, &big, 2);
  const auto why = check_output(expected, wrong, rows, n, kVerifyTolerance, "the CPU", std::vector<std::int64_t>{10, 11, 12, 13});
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("row 11, col 5"), std::string::npos) << *why;
  EXPECT_NE(why->find("the CPU"), std::string::npos) << *why;
  EXPECT_TRUE(check_output_bf16(got, wrong, rows, n, kVerifyTolerance, "the reference backend"));
  // A NaN left by the poison is never accepted.
  std::vector<std::byte> nan = got;
  const std::uint16_t poison = 0xFFFF;
  std::memcpy(nan.data() + 2 * 100, &poison, 2);
  const auto why_nan = check_output(expected, nan, rows, n, 1.0, "x");
  ASSERT_TRUE(why_nan);
  EXPECT_NE(why_nan->find("non-finite"), std::string::npos) << *why_nan;
  EXPECT_NE(why_nan->find("row 3, col 4"), std::string::npos) << *why_nan;
}

// A one-row output of 512 (the decode shape N = 512, M = 1): accumulation order may flip its
// largest element by one bf16 ulp, which alone is 1.2e-3 norm-wise; two ulps there are an error.
TEST(BenchGemmVerify, CheckOutputAllowsOneFlipOfTheLargestElement) {
  const std::int64_t rows = 1, n = 512;
  std::vector<double> expected(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = std::sin(static_cast<double>(i)) * 48.0;
  expected[242] = -233.0;
  const std::vector<std::byte> got = ref::store(expected, rows, n, DType::kBFloat16);
  auto off_by = [&](float delta) {
    std::vector<std::byte> v = got;
    const std::uint16_t bits = bf16_from_float(-233.0f + delta);
    std::memcpy(v.data() + 2 * 242, &bits, 2);
    return v;
  };
  EXPECT_FALSE(check_output(expected, got, rows, n, kVerifyTolerance, "x"));
  const auto one = check_output(expected, off_by(1.0f), rows, n, kVerifyTolerance, "x");
  EXPECT_FALSE(one) << *one;
  const auto two = check_output(expected, off_by(2.0f), rows, n, kVerifyTolerance, "x");
  ASSERT_TRUE(two);
  EXPECT_NE(two->find("with one flip"), std::string::npos) << *two;
}

}  // namespace
}  // namespace fp8kit::bench
