// dtype names and sizes, errors, TensorView geometry.
#include <gtest/gtest.h>

#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

// Runs f, expects an fp8kit::Error of `kind` whose message contains every fragment.
template <typename F>
void expect_error(F&& f, ErrorKind kind, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "'" << fragment << "' missing from: " << e.what();
    }
  }
}

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(dtype_name(DType::kFloat32), "float");
  EXPECT_EQ(dtype_name(DType::kFloat16), "half");
  EXPECT_EQ(dtype_name(DType::kBFloat16), "bfloat16");
  EXPECT_EQ(dtype_name(DType::kE4M3), "e4m3");
  EXPECT_EQ(dtype_name(DType::kE5M2), "e5m2");
  EXPECT_EQ(dtype_size(DType::kFloat32), 4u);
  EXPECT_EQ(dtype_size(DType::kFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::kBFloat16), 2u);
  EXPECT_EQ(dtype_size(DType::kE4M3), 1u);
  EXPECT_EQ(dtype_size(DType::kE5M2), 1u);
}

TEST(DType, ParseAcceptsNamesAndAliases) {
  for (DType d : {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kE4M3, DType::kE5M2}) {
    EXPECT_EQ(parse_dtype(dtype_name(d)), d);
  }
  EXPECT_EQ(parse_dtype("fp32"), DType::kFloat32);
  EXPECT_EQ(parse_dtype("float32"), DType::kFloat32);
  EXPECT_EQ(parse_dtype("fp16"), DType::kFloat16);
  EXPECT_EQ(parse_dtype("float16"), DType::kFloat16);
  EXPECT_EQ(parse_dtype("bf16"), DType::kBFloat16);
  EXPECT_EQ(parse_dtype("float8_e4m3fn"), DType::kE4M3);
  EXPECT_EQ(parse_dtype("float8_e5m2"), DType::kE5M2);
}

TEST(DType, ParseRejectsUnknownNamesListingTheAccepted) {
  expect_error([] { parse_dtype("bfloat"); }, ErrorKind::kInvalidArgument,
               {"'bfloat'", "float", "half", "bfloat16", "e4m3", "bf16", "float8_e4m3fn"});
  expect_error([] { parse_dtype(""); }, ErrorKind::kInvalidArgument, {"''"});
  expect_error([] { parse_dtype("Float"); }, ErrorKind::kInvalidArgument, {"'Float'"});
}

TEST(Errors, KindsAndExitCodes) {
  expect_error([] { throw_invalid_argument("bad thing"); }, ErrorKind::kInvalidArgument,
               {"bad thing"});
  expect_error([] { throw_environment("no GPU"); }, ErrorKind::kEnvironment, {"no GPU"});
  EXPECT_EQ(Error(ErrorKind::kCheckFailed, "x").exit_code(), 1);
  EXPECT_EQ(Error(ErrorKind::kInvalidArgument, "x").exit_code(), 2);
  EXPECT_EQ(Error(ErrorKind::kEnvironment, "x").exit_code(), 3);
}

TEST(TensorView, ContiguousStridesAndNumel) {
  int dummy = 0;
  const auto t = TensorView::contiguous(&dummy, DType::kBFloat16, {2, 3, 4});
  EXPECT_EQ(t.data, &dummy);
  EXPECT_EQ(t.dtype, DType::kBFloat16);
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(2), 4);
  EXPECT_EQ(t.stride(0), 12);
  EXPECT_EQ(t.stride(1), 4);
  EXPECT_EQ(t.stride(2), 1);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.span_bytes(), 48u);
  EXPECT_EQ(t.describe(), "bfloat16[2, 3, 4] strides [12, 4, 1]");

  const auto scalar = TensorView::contiguous(nullptr, DType::kFloat32, {});
  EXPECT_EQ(scalar.rank, 0);
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.span_bytes(), 4u);
  EXPECT_EQ(scalar.describe(), "float[] strides []");
}

TEST(TensorView, ContiguousRejectsBadShapes) {
  expect_error(
      [] {
        TensorView::contiguous(nullptr, DType::kFloat32, {1, 2, 3, 4, 5});
      },
      ErrorKind::kInvalidArgument, {"rank 5", "4"});
  expect_error(
      [] {
        TensorView::contiguous(nullptr, DType::kFloat32, {3, -1});
      },
      ErrorKind::kInvalidArgument, {"shape[1] = -1"});
}

TEST(TensorView, MatrixWithRowStride) {
  const auto m = TensorView::matrix(nullptr, DType::kFloat16, 4096, 7168, 8192);
  EXPECT_EQ(m.rank, 2);
  EXPECT_EQ(m.size(0), 4096);
  EXPECT_EQ(m.size(1), 7168);
  EXPECT_EQ(m.stride(0), 8192);
  EXPECT_EQ(m.stride(1), 1);
  EXPECT_FALSE(m.is_contiguous());
  // Last element at 4095 * 8192 + 7167.
  EXPECT_EQ(m.span_bytes(), std::size_t{(4095 * 8192 + 7167 + 1) * 2});
  EXPECT_EQ(m.describe(), "half[4096, 7168] strides [8192, 1]");

  EXPECT_TRUE(TensorView::matrix(nullptr, DType::kE4M3, 3, 5, 5).is_contiguous());
  // A single row is contiguous whatever its stride.
  EXPECT_TRUE(TensorView::matrix(nullptr, DType::kE4M3, 1, 5, 64).is_contiguous());
  expect_error([] { TensorView::matrix(nullptr, DType::kFloat32, 2, 8, 7); },
               ErrorKind::kInvalidArgument, {"row_stride = 7", "cols = 8"});
  expect_error([] { TensorView::matrix(nullptr, DType::kFloat32, -2, 8, 8); },
               ErrorKind::kInvalidArgument, {"negative"});
}

TEST(TensorView, EmptyTensors) {
  const auto e = TensorView::matrix(nullptr, DType::kBFloat16, 0, 7168, 7168);
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.span_bytes(), 0u);
  EXPECT_TRUE(e.is_contiguous());
}

TEST(TensorView, HandBuiltStrides) {
  TensorView t;  // a transposed (3, 2) view of a row-major (2, 3) fp32 buffer
  t.dtype = DType::kFloat32;
  t.rank = 2;
  t.shape = {3, 2, 0, 0};
  t.strides = {1, 3, 0, 0};
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.span_bytes(), 24u);  // offsets 0..5
  EXPECT_EQ(t.describe(), "float[3, 2] strides [1, 3]");
}

}  // namespace
}  // namespace fp8kit
