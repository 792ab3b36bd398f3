#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/fp8_codec.hpp"
#include "core/ref_gemm.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <typename F>
void expect_invalid(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// An (rows, cols) E4M3 matrix with row stride ld whose row r, 128-wide K slice kb holds the
// integer value(r, kb); padding columns hold NaN codes, so reading them would show.
template <typename V>
std::vector<std::uint8_t> sliced_codes(std::int64_t rows, std::int64_t cols, std::int64_t ld,
                                       V value) {
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(rows * ld), 0x7F);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      codes[static_cast<std::size_t>(r * ld + c)] =
          e4m3_from_float(static_cast<float>(value(r, c / 128)));
    }
  }
  return codes;
}

std::vector<std::uint8_t> row_codes(std::initializer_list<float> values) {
  std::vector<std::uint8_t> codes;
  for (float v : values) codes.push_back(e4m3_from_float(v));
  return codes;
}

// --- every scale-mode pair on one 2x2x256 problem, answers computed by hand ---------------------
// A row 0 = 1 | 2, row 1 = -1 | 3 and B row 0 = 1 | -1, row 1 = 2 | 1 over the two K slices, so
// each slice contributes 128·a·b·sa·sb.
struct PairCase {
  ScaleModeA a;
  ScaleModeB b;
  std::array<double, 4> d;
};

std::vector<float> scales_a(ScaleModeA mode) {
  switch (mode) {
    case ScaleModeA::kTensor: return {0.5f};
    case ScaleModeA::kToken: return {1.0f, 2.0f};
    // (m, kb): (0,0)=1 (1,0)=4 (0,1)=2 (1,1)=0.5, column stride round_up(2, 4) = 4.
    case ScaleModeA::kGroup128: return {1.0f, 4.0f, kNaN, kNaN, 2.0f, 0.5f, kNaN, kNaN};
  }
  return {};
}

std::vector<float> scales_b(ScaleModeB mode) {
  switch (mode) {
    case ScaleModeB::kTensor: return {0.25f};
    case ScaleModeB::kChannel: return {1.0f, 0.5f};
    // One block row (N = 2): (0,0)=2 (0,1)=0.25, row stride round_up(2, 4) = 4.
    case ScaleModeB::kBlock128: return {2.0f, 0.25f, kNaN, kNaN};
  }
  return {};
}

TEST(RefGemm, EveryScaleModePairByHand) {
  const std::vector<PairCase> cases = {
      {ScaleModeA::kTensor, ScaleModeB::kTensor, {-16, 64, -64, 16}},
      {ScaleModeA::kTensor, ScaleModeB::kChannel, {-64, 128, -256, 32}},
      {ScaleModeA::kTensor, ScaleModeB::kBlock128, {96, 288, -176, -208}},
      {ScaleModeA::kToken, ScaleModeB::kTensor, {-32, 128, -256, 64}},
      {ScaleModeA::kToken, ScaleModeB::kChannel, {-128, 256, -1024, 128}},
      {ScaleModeA::kToken, ScaleModeB::kBlock128, {192, 576, -704, -832}},
      {ScaleModeA::kGroup128, ScaleModeB::kTensor, {-96, 192, -176, -208}},
      {ScaleModeA::kGroup128, ScaleModeB::kChannel, {-384, 384, -704, -416}},
      {ScaleModeA::kGroup128, ScaleModeB::kBlock128, {128, 640, -1072, -2000}},
  };
  const std::array<std::array<int, 2>, 2> a_vals = {{{1, 2}, {-1, 3}}};
  const std::array<std::array<int, 2>, 2> b_vals = {{{1, -1}, {2, 1}}};
  // Row strides wider than K, padded with NaN codes.
  const auto a = sliced_codes(2, 256, 272, [&](auto r, auto kb) { return a_vals[r][kb]; });
  const auto b = sliced_codes(2, 256, 288, [&](auto r, auto kb) { return b_vals[r][kb]; });
  for (const PairCase& c : cases) {
    SCOPED_TRACE(std::string(scale_mode_name(c.a)) + " x " + std::string(scale_mode_name(c.b)));
    const auto sa = scales_a(c.a);
    const auto sb = scales_b(c.b);
    ASSERT_EQ(static_cast<std::int64_t>(sa.size()), scale_a_elems(c.a, 2, 256));
    ASSERT_EQ(static_cast<std::int64_t>(sb.size()), scale_b_elems(c.b, 2, 256));
    const auto d = ref::scaled_gemm({.shape = {2, 2, 256}, .mode_a = c.a, .mode_b = c.b,
                                     .a = a, .lda = 272, .b = b, .ldb = 288,
                                     .scale_a = sa, .scale_b = sb, .bias = {}});
    ASSERT_EQ(d.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(d[i], c.d[i]) << "element " << i;

    // The bias adds per column.
    const std::vector<float> bias = {10.0f, -0.5f};
    const auto db = ref::scaled_gemm({.shape = {2, 2, 256}, .mode_a = c.a, .mode_b = c.b,
                                      .a = a, .lda = 272, .b = b, .ldb = 288,
                                      .scale_a = sa, .scale_b = sb, .bias = bias});
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(db[i], c.d[i] + bias[i % 2]) << "element " << i;
  }
}

// Small K, no 128 slices: A = [[1, 2, 3], [-1, 0, 4]], B = [[1, 1, 1], [2, -1, 0]],
// A·Bᵀ = [[6, 0], [3, -2]].
TEST(RefGemm, TensorAndTokenScalesWithBias) {
  const auto a = row_codes({1, 2, 3, -1, 0, 4});
  const auto b = row_codes({1, 1, 1, 2, -1, 0});
  const std::vector<float> sa = {2.0f};
  const std::vector<float> sb = {0.25f};
  const std::vector<float> bias = {10.0f, -1.0f};
  const auto d = ref::scaled_gemm({.shape = {2, 2, 3}, .mode_a = ScaleModeA::kTensor,
                                   .mode_b = ScaleModeB::kTensor, .a = a, .lda = 3, .b = b,
                                   .ldb = 3, .scale_a = sa, .scale_b = sb, .bias = bias});
  EXPECT_EQ(d, (std::vector<double>{13, -1, 11.5, -2}));

  const std::vector<float> tok = {1.0f, 2.0f};
  const std::vector<float> chan = {4.0f, 0.5f};
  const auto d2 = ref::scaled_gemm({.shape = {2, 2, 3}, .mode_a = ScaleModeA::kToken,
                                    .mode_b = ScaleModeB::kChannel, .a = a, .lda = 3, .b = b,
                                    .ldb = 3, .scale_a = tok, .scale_b = chan, .bias = {}});
  EXPECT_EQ(d2, (std::vector<double>{24, 0, 24, -2}));
}

// K = 256, N = 144 (a ragged second block row), M = 37 (group scales padded to a stride of 40;
// both cross the reference's 32-row tiles): every (m, kb) and (nb, kb) scale differs from its
// neighbours, so a wrong index changes the answer.
TEST(RefGemm, GroupAndBlockScaleIndexingRaggedN) {
  constexpr std::int64_t kM = 37, kN = 144, kK = 256, kScaleLd = 40;
  const auto a = sliced_codes(kM, kK, kK, [](auto, auto kb) { return kb == 0 ? 1 : -1; });
  const auto b = sliced_codes(kN, kK, kK, [](auto, auto) { return 1; });
  // sa(m, 0) = 2^(m % 5) and sa(m, 1) = 2^-(m % 5); padding rows 37..39 NaN.
  std::vector<float> sa(static_cast<std::size_t>(scale_a_elems(ScaleModeA::kGroup128, kM, kK)),
                        kNaN);
  ASSERT_EQ(sa.size(), static_cast<std::size_t>(2 * kScaleLd));
  for (int m = 0; m < kM; ++m) {
    sa[static_cast<std::size_t>(0 * kScaleLd + m)] = std::ldexp(1.0f, m % 5);
    sa[static_cast<std::size_t>(1 * kScaleLd + m)] = std::ldexp(1.0f, -(m % 5));
  }
  // sb(nb, kb): (0,0)=1 (0,1)=2 (1,0)=4 (1,1)=8, row stride 4.
  const std::vector<float> sb = {1, 2, kNaN, kNaN, 4, 8, kNaN, kNaN};
  ASSERT_EQ(static_cast<std::int64_t>(sb.size()), scale_b_elems(ScaleModeB::kBlock128, kN, kK));
  std::vector<float> bias(kN);
  for (std::size_t n = 0; n < bias.size(); ++n) bias[n] = static_cast<float>(n);
  const auto d = ref::scaled_gemm({.shape = {kM, kN, kK}, .mode_a = ScaleModeA::kGroup128,
                                   .mode_b = ScaleModeB::kBlock128, .a = a, .lda = kK, .b = b,
                                   .ldb = kK, .scale_a = sa, .scale_b = sb, .bias = bias});
  ASSERT_EQ(d.size(), static_cast<std::size_t>(kM * kN));
  // D[m][n] = 128·(sa(m,0)·sb(nb,0) − sa(m,1)·sb(nb,1)) + n, by m % 5 and block row nb.
  const std::array<std::array<double, 2>, 5> expected = {{
      {128 * (1 - 2.0), 128 * (4 - 8.0)},      // m % 5 = 0
      {128 * (2 - 1.0), 128 * (8 - 4.0)},      // 1
      {128 * (4 - 0.5), 128 * (16 - 2.0)},     // 2
      {128 * (8 - 0.25), 128 * (32 - 1.0)},    // 3
      {128 * (16 - 0.125), 128 * (64 - 0.5)},  // 4
  }};
  for (std::int64_t m = 0; m < kM; ++m) {
    for (std::int64_t n = 0; n < kN; ++n) {
      ASSERT_EQ(d[static_cast<std::size_t>(m * kN + n)],
                expected[static_cast<std::size_t>(m % 5)][n < 128 ? 0 : 1] + static_cast<double>(n))
          << "m=" << m << " n=" << n;
    }
  }
}

TEST(RefGemm, MZeroDoesNothing) {
  const std::vector<float> s = {1.0f};
  const auto d = ref::scaled_gemm({.shape = {0, 64, 256}, .mode_a = ScaleModeA::kGroup128,
                                   .mode_b = ScaleModeB::kTensor, .a = {}, .lda = 256, .b = {},
                                   .ldb = 256, .scale_a = {}, .scale_b = s, .bias = {}});
  EXPECT_TRUE(d.empty());
  const auto p = ref::gemm({.shape = {0, 16, 16}, .dtype = DType::kBFloat16, .a = {}, .lda = 16,
                            .b = {}, .ldb = 16, .bias = {}});
  EXPECT_TRUE(p.empty());
  std::vector<std::byte> out(4, std::byte{0xAB});
  ref::store(d, 0, 64, DType::kBFloat16, out, 64);
  EXPECT_EQ(out[0], std::byte{0xAB});
}

TEST(RefGemm, NaNCodePropagates) {
  const std::vector<std::uint8_t> a = {0x7F, e4m3_from_float(1.0f)};
  const auto b = row_codes({1, 1, 2, 2});
  const std::vector<float> s = {1.0f};
  const auto d = ref::scaled_gemm({.shape = {1, 2, 2}, .mode_a = ScaleModeA::kTensor,
                                   .mode_b = ScaleModeB::kTensor, .a = a, .lda = 2, .b = b,
                                   .ldb = 2, .scale_a = s, .scale_b = s, .bias = {}});
  EXPECT_TRUE(std::isnan(d[0]));
  EXPECT_TRUE(std::isnan(d[1]));
}

TEST(RefGemm, RejectsBadArguments) {
  const auto a = row_codes({1, 1, 1, 1});
  const std::vector<float> one = {1.0f};
  ref::ScaledGemmInputs in{.shape = {2, 2, 2}, .mode_a = ScaleModeA::kTensor,
                           .mode_b = ScaleModeB::kTensor, .a = a, .lda = 2, .b = a, .ldb = 2,
                           .scale_a = one, .scale_b = one, .bias = {}};
  EXPECT_NO_THROW(ref::scaled_gemm(in));
  auto bad = in;
  bad.lda = 1;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "lda must be >= K");
  bad = in;
  bad.ldb = 3;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "b holds 4 elements");
  bad = in;
  bad.mode_a = ScaleModeA::kToken;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "scale_a holds 1 values, needs 2");
  bad = in;
  bad.mode_b = ScaleModeB::kBlock128;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "scale_b");
  bad = in;
  bad.bias = one;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "bias must be empty or hold N=2");
  bad = in;
  bad.shape.k = -2;
  expect_invalid([&] { ref::scaled_gemm(bad); }, "non-negative");
}

// --- plain GEMM of the BF16 baseline -----------------------------------------------------------

template <typename Encode>
std::vector<std::byte> encode16(const std::vector<float>& values, Encode encode) {
  std::vector<std::byte> bytes(values.size() * 2);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t bits = encode(values[i]);
    std::memcpy(bytes.data() + 2 * i, &bits, 2);
  }
  return bytes;
}

std::vector<std::byte> encode(const std::vector<float>& values, DType dtype) {
  if (dtype == DType::kBFloat16) return encode16(values, bf16_from_float);
  if (dtype == DType::kFloat16) return encode16(values, half_from_float);
  std::vector<std::byte> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST(RefGemm, PlainGemmEveryInputDtype) {
  // A = [[1, 2], [3, 4]] with lda 3 (padding 99), B = [[1, 0], [0, 1], [1, -1.5]], bias.
  const std::vector<float> a = {1, 2, 99, 3, 4, 99};
  const std::vector<float> b = {1, 0, 0, 1, 1, -1.5f};
  const std::vector<float> bias = {0.5f, 0, -1};
  for (DType t : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
    const auto ab = encode(a, t);
    const auto bb = encode(b, t);
    const auto d = ref::gemm({.shape = {2, 3, 2}, .dtype = t, .a = ab, .lda = 3, .b = bb,
                              .ldb = 2, .bias = bias});
    EXPECT_EQ(d, (std::vector<double>{1.5, 2, -3, 3.5, 4, -4}));
  }
  const auto ab = encode(a, DType::kBFloat16);
  expect_invalid([&] { ref::gemm({.shape = {2, 3, 2}, .dtype = DType::kE4M3, .a = ab, .lda = 3,
                                  .b = ab, .ldb = 2, .bias = {}}); },
                 "float, half or bfloat16");
  expect_invalid([&] { ref::gemm({.shape = {2, 3, 2}, .dtype = DType::kBFloat16, .a = ab,
                                  .lda = 3, .b = ab, .ldb = 3, .bias = {}}); },
                 "b holds 6 elements");
}

// --- output conversion ------------------------------------------------------------------------

std::vector<std::uint16_t> as_u16(const std::vector<std::byte>& bytes) {
  std::vector<std::uint16_t> out(bytes.size() / 2);
  std::memcpy(out.data(), bytes.data(), out.size() * 2);
  return out;
}

TEST(RefGemm, StoreEachOutDtype) {
  const std::vector<double> d = {13, -1, 11.5, -2};
  const auto f32 = ref::store(d, 2, 2, DType::kFloat32);
  std::vector<float> f(4);
  std::memcpy(f.data(), f32.data(), 16);
  EXPECT_EQ(f, (std::vector<float>{13, -1, 11.5f, -2}));
  EXPECT_EQ(as_u16(ref::store(d, 2, 2, DType::kBFloat16)),
            (std::vector<std::uint16_t>{0x4150, 0xBF80, 0x4138, 0xC000}));
  EXPECT_EQ(as_u16(ref::store(d, 2, 2, DType::kFloat16)),
            (std::vector<std::uint16_t>{0x4A80, 0xBC00, 0x49C0, 0xC000}));
  expect_invalid([&] { ref::store(d, 2, 2, DType::kE4M3); }, "out dtype");
  expect_invalid([&] { ref::store(d, 2, 3, DType::kFloat32); }, "d holds 4 values, needs 6");
}

TEST(RefGemm, StoreWithLeadingDimensionLeavesPaddingAlone) {
  const std::vector<double> d = {1, 2, 3, 4};
  std::vector<std::byte> out(2 * 3 * 2, std::byte{0xAB});  // (2, 2) bf16 with ldd 3
  ref::store(d, 2, 2, DType::kBFloat16, out, 3);
  const auto u = as_u16(out);
  EXPECT_EQ(u, (std::vector<std::uint16_t>{0x3F80, 0x4000, 0xABAB, 0x4040, 0x4080, 0xABAB}));
  std::vector<std::byte> short_out(2 * 4);
  expect_invalid([&] { ref::store(d, 2, 2, DType::kBFloat16, short_out, 3); }, "dst");
  expect_invalid([&] { ref::store(d, 2, 2, DType::kBFloat16, out, 1); }, "ldd must be >= N");
  // And back.
  EXPECT_EQ(ref::load(out, 2, 2, DType::kBFloat16, 3), d);
}

// The documented double -> fp32 -> out rounding: 1 + 2^-8 + 2^-30 rounds up to 1 + 2^-7 as a
// direct bf16 rounding, but fp32 first drops the 2^-30 and the tie then goes to even, 1.0.
TEST(RefGemm, StoreRoundsThroughFloat) {
  const std::vector<double> d = {1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30)};
  EXPECT_EQ(as_u16(ref::store(d, 1, 1, DType::kBFloat16)), (std::vector<std::uint16_t>{0x3F80}));
}

TEST(RefGemm, StoreOverflowsToInfinity) {
  const double flt_max = std::numeric_limits<float>::max();
  const std::vector<double> d = {1e39, -1e300, flt_max, 70000.0};
  const auto f32 = ref::store(d, 1, 4, DType::kFloat32);
  std::vector<float> f(4);
  std::memcpy(f.data(), f32.data(), 16);
  EXPECT_EQ(f[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[1], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[2], std::numeric_limits<float>::max());
  EXPECT_EQ(f[3], 70000.0f);
  EXPECT_EQ(as_u16(ref::store(d, 1, 4, DType::kFloat16))[3], 0x7C00);  // beyond half's 65504
  EXPECT_EQ(as_u16(ref::store(d, 1, 4, DType::kBFloat16))[0], 0x7F80);
}

// --- relative error ---------------------------------------------------------------------------

TEST(RefGemm, RelativeError) {
  const std::vector<double> ref = {3, 4};
  EXPECT_EQ(ref::relative_error(ref, ref), 0.0);
  EXPECT_DOUBLE_EQ(ref::relative_error(ref, std::vector<double>{3, 5}), 0.2);
  EXPECT_DOUBLE_EQ(ref::relative_error(ref, std::vector<double>{0, 0}), 1.0);
  const std::vector<double> zero = {0, 0};
  EXPECT_EQ(ref::relative_error(zero, zero), 0.0);
  EXPECT_TRUE(std::isinf(ref::relative_error(zero, std::vector<double>{0, 1e-30})));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(ref::relative_error(ref, std::vector<double>{nan, 4})));
  EXPECT_TRUE(std::isnan(ref::relative_error(std::vector<double>{nan, 4}, ref)));
  EXPECT_FALSE(ref::relative_error(ref, std::vector<double>{inf, 4}) < 1e3);
  EXPECT_FALSE(ref::relative_error(std::vector<double>{inf, 4}, std::vector<double>{inf, 4}) < 1);
  expect_invalid([&] { ref::relative_error(ref, std::vector<double>{1}); }, "relative_error");

  // From output bytes: bf16 3 and 5 with ldd 3.
  std::vector<std::byte> out(6, std::byte{0});
  const std::array<std::uint16_t, 3> bits = {0x4040, 0x40A0, 0x7FC0};  // 3, 5, NaN padding
  std::memcpy(out.data(), bits.data(), 6);
  EXPECT_DOUBLE_EQ(ref::relative_error(ref, 1, 2, DType::kBFloat16, out, 3), 0.2);
}

}  // namespace
}  // namespace fp8kit
