#include <string>

#include <gtest/gtest.h>

#include "core/gemm_spec.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

// Runs f, expects fp8kit::Error(kInvalidArgument) whose message contains `needle`.
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

TEST(GemmSpec, ScaleModeNames) {
  EXPECT_EQ(scale_mode_name(ScaleModeA::kTensor), "tensor");
  EXPECT_EQ(scale_mode_name(ScaleModeA::kToken), "token");
  EXPECT_EQ(scale_mode_name(ScaleModeA::kGroup128), "group128");
  EXPECT_EQ(scale_mode_name(ScaleModeB::kTensor), "tensor");
  EXPECT_EQ(scale_mode_name(ScaleModeB::kChannel), "channel");
  EXPECT_EQ(scale_mode_name(ScaleModeB::kBlock128), "block128");
}

TEST(GemmSpec, ScaleElemsOfA) {
  EXPECT_EQ(scale_a_elems(ScaleModeA::kTensor, 5, 256), 1);
  EXPECT_EQ(scale_a_elems(ScaleModeA::kToken, 5, 256), 5);
  // (M, K/128) column-major with column stride round_up(M, 4) = 8.
  EXPECT_EQ(scale_a_elems(ScaleModeA::kGroup128, 5, 256), 2 * 8);
  EXPECT_EQ(scale_a_elems(ScaleModeA::kGroup128, 8, 384), 3 * 8);
  EXPECT_EQ(scale_a_elems(ScaleModeA::kGroup128, 1, 7168), 56 * 4);
  EXPECT_EQ(scale_a_elems(ScaleModeA::kGroup128, 0, 256), 0);
  EXPECT_EQ(scale_a_elems(ScaleModeA::kToken, 0, 256), 0);
  EXPECT_EQ(group128_scale_ld(5), 8);
  EXPECT_EQ(group128_scale_ld(16384), 16384);
  expect_invalid([] { scale_a_elems(ScaleModeA::kToken, -1, 128); }, "M");
  expect_invalid([] { scale_a_elems(ScaleModeA::kTensor, 1, -128); }, "K");
}

TEST(GemmSpec, ScaleElemsOfB) {
  EXPECT_EQ(scale_b_elems(ScaleModeB::kTensor, 144, 256), 1);
  EXPECT_EQ(scale_b_elems(ScaleModeB::kChannel, 144, 256), 144);
  // ceil(144/128) = 2 block rows, K/128 = 2 padded to a row stride of 4.
  EXPECT_EQ(scale_b_elems(ScaleModeB::kBlock128, 144, 256), 2 * 4);
  // N = 576, K = 2304: 5 block rows, 18 columns padded to 20 (a cuBLASLt pitfall).
  EXPECT_EQ(scale_b_elems(ScaleModeB::kBlock128, 576, 2304), 5 * 20);
  EXPECT_EQ(scale_b_elems(ScaleModeB::kBlock128, 7168, 512), 56 * 4);
  EXPECT_EQ(block128_scale_ld(2304), 20);
  EXPECT_EQ(block128_scale_ld(512), 4);
  EXPECT_EQ(block128_scale_ld(640), 8);
  expect_invalid([] { scale_b_elems(ScaleModeB::kChannel, -16, 128); }, "N");
}

TEST(GemmSpec, ValidateAcceptsTheRules) {
  for (ScaleModeA a : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
    for (ScaleModeB b : {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}) {
      EXPECT_NO_THROW(validate_gemm({0, 576, 2304}, a, b));
      EXPECT_NO_THROW(validate_gemm({1, 144, 256}, a, b));
      EXPECT_NO_THROW(validate_gemm({16384, 7168, 18432}, a, b));
    }
  }
  // Unblocked pairs need only multiples of 16.
  EXPECT_NO_THROW(validate_gemm({3, 48, 80}, ScaleModeA::kToken, ScaleModeB::kChannel));
}

TEST(GemmSpec, ValidateRejectsWithNamedRule) {
  const auto t = ScaleModeA::kTensor;
  const auto c = ScaleModeB::kChannel;
  expect_invalid([&] { validate_gemm({-1, 64, 64}, t, c); }, "M must be >= 0");
  expect_invalid([&] { validate_gemm({4, 72, 64}, t, c); }, "N must be a positive multiple of 16");
  expect_invalid([&] { validate_gemm({4, 0, 64}, t, c); }, "N must be a positive multiple of 16");
  expect_invalid([&] { validate_gemm({4, 64, 40}, t, c); }, "K must be a positive multiple of 16");
  expect_invalid([&] { validate_gemm({4, 64, 0}, t, c); }, "K must be a positive multiple of 16");
  expect_invalid([&] { validate_gemm({4, 64, 80}, ScaleModeA::kGroup128, c); },
                 "K must be a multiple of 128 with scale modes a=group128 b=channel");
  expect_invalid([&] { validate_gemm({4, 64, 272}, t, ScaleModeB::kBlock128); },
                 "K must be a multiple of 128 with scale modes a=tensor b=block128");
}

TEST(GemmSpec, OutDtype) {
  EXPECT_NO_THROW(validate_gemm_out_dtype(DType::kFloat32));
  EXPECT_NO_THROW(validate_gemm_out_dtype(DType::kFloat16));
  EXPECT_NO_THROW(validate_gemm_out_dtype(DType::kBFloat16));
  expect_invalid([] { validate_gemm_out_dtype(DType::kE4M3); }, "got e4m3");
  expect_invalid([] { validate_gemm_out_dtype(DType::kE5M2); }, "got e5m2");
}

}  // namespace
}  // namespace fp8kit
