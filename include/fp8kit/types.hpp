// Public vocabulary shared by every fp8kit operation: dtypes, errors, tensor views, streams.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

// Declared here so public headers need no CUDA header; identical to the runtime's typedef.
typedef struct CUstream_st* cudaStream_t;

namespace fp8kit {

enum class DType : std::uint8_t { kFloat32, kFloat16, kBFloat16, kE4M3, kE5M2 };

std::string_view dtype_name(DType dtype);  // "float", "half", "bfloat16", "e4m3", "e5m2"
std::size_t dtype_size(DType dtype);
// Accepts the names above and the aliases fp32/float32, fp16/float16, bf16, float8_e4m3fn.
DType parse_dtype(std::string_view name);

// What went wrong decides the CLI's exit code (DESIGN.md §8).
enum class ErrorKind : int {
  kCheckFailed = 1,      // a verification or self-check failed
  kInvalidArgument = 2,  // bad usage: shape, dtype, stride, alignment, unknown name
  kEnvironment = 3,      // no GPU, unsupported architecture, missing library, I/O
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  int exit_code() const noexcept { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

[[noreturn]] void throw_invalid_argument(const std::string& message);
[[noreturn]] void throw_environment(const std::string& message);

// A non-owning view of a strided tensor of rank 0..4 (device or host memory).
// Strides are in elements; a rank-2 tensor (rows, cols) with strides (ld, 1) is row-major.
struct TensorView {
  static constexpr int kMaxRank = 4;

  void* data = nullptr;
  DType dtype = DType::kFloat32;
  int rank = 0;
  std::array<std::int64_t, kMaxRank> shape{};
  std::array<std::int64_t, kMaxRank> strides{};

  // A contiguous row-major tensor.
  static TensorView contiguous(void* data, DType dtype, std::initializer_list<std::int64_t> shape);
  // A rank-2 tensor with a row stride (rows need not be contiguous).
  static TensorView matrix(void* data, DType dtype, std::int64_t rows, std::int64_t cols,
                           std::int64_t row_stride);

  std::int64_t numel() const;
  std::int64_t size(int dim) const { return shape.at(static_cast<std::size_t>(dim)); }
  std::int64_t stride(int dim) const { return strides.at(static_cast<std::size_t>(dim)); }
  bool is_contiguous() const;
  // Bytes from the first to one past the last element addressed (0 when empty).
  std::size_t span_bytes() const;
  std::string describe() const;  // "bfloat16[4096, 7168] strides [7168, 1]"
};

}  // namespace fp8kit
