// Tensor-map argument checks (cuTensorMapEncodeTiled's documented rules) run before the driver is
// reached, so every bad argument is a clear kInvalidArgument on a machine without a GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "cuda/tensor_map.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::cuda {
namespace {

alignas(1024) std::uint8_t g_buffer[1 << 16];

// A (M, K) = (256, 1024) e4m3 activation read in (128, 128) boxes with 128B swizzle.
TensorMap2d good_a() {
  TensorMap2d s;
  s.data = g_buffer;
  s.dtype = DType::kE4M3;
  s.rows = 256;
  s.cols = 1024;
  s.row_stride = 1024;
  s.box_rows = 128;
  s.box_cols = 128;
  s.swizzle = TensorMapSwizzle::k128B;
  s.what = "a";
  return s;
}

void expect_invalid(const TensorMap2d& s, const std::string& needle) {
  try {
    check_tensor_map_2d(s);
    ADD_FAILURE() << "accepted; expected an error mentioning \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_NE(what.find("tensor map for " + std::string(s.what)), std::string::npos) << what;
  }
}

TEST(TensorMapChecks, GemmOperandsPass) {
  EXPECT_NO_THROW(check_tensor_map_2d(good_a()));
  TensorMap2d b = good_a();  // B (N, K) = (576, 7168): ragged last N box overhangs, which TMA zero-fills
  b.rows = 576;
  b.cols = 7168;
  b.row_stride = 7168;
  b.box_rows = 256;
  b.what = "b";
  EXPECT_NO_THROW(check_tensor_map_2d(b));
  TensorMap2d out;  // D (M, N) bf16 stored in (128, 64) boxes: 64 x 2 bytes = one 128-byte swizzle row
  out.data = g_buffer;
  out.dtype = DType::kBFloat16;
  out.rows = 100;
  out.cols = 576;
  out.row_stride = 576;
  out.box_rows = 128;
  out.box_cols = 64;
  out.what = "out";
  EXPECT_NO_THROW(check_tensor_map_2d(out));
  TensorMap2d scale_a;  // group128 scales: (K/128, round_up(M, 4)) fp32, one row of block_m per box
  scale_a.data = g_buffer;
  scale_a.dtype = DType::kFloat32;
  scale_a.rows = 56;
  scale_a.cols = 132;
  scale_a.row_stride = 132;
  scale_a.box_rows = 1;
  scale_a.box_cols = 128;
  scale_a.swizzle = TensorMapSwizzle::kNone;  // 512-byte box rows: only unswizzled
  scale_a.what = "scale_a";
  EXPECT_NO_THROW(check_tensor_map_2d(scale_a));
  scale_a.swizzle = TensorMapSwizzle::k128B;
  expect_invalid(scale_a, "exceed the 128-byte swizzle width");
}

TEST(TensorMapChecks, AddressMustBe16ByteAligned) {
  TensorMap2d s = good_a();
  s.data = g_buffer + 8;
  expect_invalid(s, "is not 16-byte aligned");
  s.data = g_buffer + 16;
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  s.data = nullptr;
  expect_invalid(s, "data is null");
}

TEST(TensorMapChecks, RowStrideMustBe16BytesAndCoverTheRow) {
  TensorMap2d s = good_a();
  s.cols = 1000;
  s.row_stride = 1000;  // 1000 bytes
  expect_invalid(s, "= 1000 bytes is not a multiple of 16");
  s.row_stride = 1008;  // padded rows are fine
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  s.row_stride = 992;
  expect_invalid(s, "row stride 992 is smaller than cols 1000");
  TensorMap2d f = good_a();  // fp32: 4 elements make 16 bytes
  f.dtype = DType::kFloat32;
  f.box_cols = 32;
  f.cols = 6;
  f.row_stride = 6;  // 24 bytes
  expect_invalid(f, "= 24 bytes is not a multiple of 16");
  f.row_stride = 8;
  EXPECT_NO_THROW(check_tensor_map_2d(f));
  f.row_stride = std::int64_t{1} << 38;  // 2^40 bytes
  expect_invalid(f, "not below 2^40");
}

TEST(TensorMapChecks, Dimensions) {
  TensorMap2d s = good_a();
  s.rows = 0;  // M = 0 launches nothing and needs no map
  expect_invalid(s, "rows must be in [1, 2^32]");
  s = good_a();
  s.cols = 0;
  expect_invalid(s, "cols must be in [1, 2^32]");
  s = good_a();
  s.rows = (std::int64_t{1} << 32) + 1;
  expect_invalid(s, "rows must be in [1, 2^32]");
  s.rows = std::int64_t{1} << 32;
  EXPECT_NO_THROW(check_tensor_map_2d(s));
}

TEST(TensorMapChecks, Boxes) {
  TensorMap2d s = good_a();
  s.box_rows = 257;
  expect_invalid(s, "box rows must be in [1, 256]");
  s.box_rows = 256;
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  s.box_rows = 0;
  expect_invalid(s, "box rows must be in [1, 256]");
  s = good_a();
  s.box_cols = 0;
  expect_invalid(s, "box cols must be in [1, 256]");
  s.box_cols = 24;  // 24 bytes
  expect_invalid(s, "= 24 bytes is not a multiple of 16");
  s.box_cols = 256;  // 256 bytes: more than one 128-byte swizzle row
  expect_invalid(s, "256 bytes exceed the 128-byte swizzle width");
  s.swizzle = TensorMapSwizzle::k64B;
  s.box_cols = 128;
  expect_invalid(s, "exceed the 64-byte swizzle width");
  s.box_cols = 64;
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  s.swizzle = TensorMapSwizzle::kNone;
  s.box_cols = 256;
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  TensorMap2d bf16 = good_a();
  bf16.dtype = DType::kBFloat16;
  bf16.box_cols = 128;  // 256 bytes
  expect_invalid(bf16, "128 x 2 bytes = 256 bytes exceed the 128-byte swizzle width");
  bf16.box_cols = 64;
  EXPECT_NO_THROW(check_tensor_map_2d(bf16));
}

TEST(TensorMapChecks, SpecFromATensorView) {
  const TensorView a = TensorView::matrix(g_buffer, DType::kE4M3, 64, 256, 272);
  const TensorMap2d s = tensor_map_spec(a, 64, 128, TensorMapSwizzle::k128B, "a");
  EXPECT_EQ(s.data, static_cast<const void*>(g_buffer));
  EXPECT_EQ(s.dtype, DType::kE4M3);
  EXPECT_EQ(s.rows, 64);
  EXPECT_EQ(s.cols, 256);
  EXPECT_EQ(s.row_stride, 272);
  EXPECT_EQ(s.box_rows, 64);
  EXPECT_EQ(s.box_cols, 128);
  EXPECT_EQ(s.swizzle, TensorMapSwizzle::k128B);
  EXPECT_STREQ(s.what, "a");
  EXPECT_NO_THROW(check_tensor_map_2d(s));
  const TensorView vec = TensorView::contiguous(g_buffer, DType::kFloat32, {128});
  EXPECT_THROW(tensor_map_spec(vec, 1, 128, TensorMapSwizzle::kNone, "bias"), Error);
  TensorView transposed = TensorView::matrix(g_buffer, DType::kBFloat16, 64, 64, 64);
  transposed.strides = {1, 64, 0, 0};
  try {
    (void)tensor_map_spec(transposed, 64, 64, TensorMapSwizzle::k128B, "out");
    ADD_FAILURE() << "accepted a column stride of 64";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("tensor map for out: columns must be contiguous"), std::string::npos)
        << e.what();
  }
}

TEST(TensorMapChecks, SwizzleWidths) {
  EXPECT_EQ(swizzle_bytes(TensorMapSwizzle::kNone), 0);
  EXPECT_EQ(swizzle_bytes(TensorMapSwizzle::k32B), 32);
  EXPECT_EQ(swizzle_bytes(TensorMapSwizzle::k64B), 64);
  EXPECT_EQ(swizzle_bytes(TensorMapSwizzle::k128B), 128);
}

TEST(TensorMapChecks, EncodeChecksBeforeTheDriver) {
  TensorMap2d s = good_a();
  s.data = g_buffer + 4;
  try {
    (void)encode_tensor_map_2d(s);
    ADD_FAILURE() << "accepted a misaligned address";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();  // not kEnvironment: the driver was never asked
  }
  // Valid arguments reach the driver: without one, a clear environment error.
  try {
    const CUtensorMap map = encode_tensor_map_2d(good_a());
    (void)map;  // a GPU machine encodes it (a host pointer is fine for encoding)
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kEnvironment) << e.what();
  }
}

}  // namespace
}  // namespace fp8kit::cuda
