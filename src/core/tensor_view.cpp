// TensorView's construction and geometry (include/fp8kit/types.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <initializer_list>
#include <span>
#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit {

TensorView TensorView::contiguous(void* data, DType dtype,
                                  std::initializer_list<std::int64_t> shape) {
  if (shape.size() > static_cast<std::size_t>(kMaxRank)) {
    throw_invalid_argument(
        fmt::format("TensorView: rank {} exceeds the maximum rank {}", shape.size(), kMaxRank));
  }
  TensorView view;
  view.data = data;
  view.dtype = dtype;
  view.rank = static_cast<int>(shape.size());
  int dim = 0;
  for (const std::int64_t extent : shape) {
    if (extent < 0) {
      throw_invalid_argument(fmt::format(
          "TensorView: shape[{}] = {} is negative (extents must be >= 0)", dim, extent));
    }
    view.shape[static_cast<std::size_t>(dim++)] = extent;
  }
  std::int64_t stride = 1;
  for (int d = view.rank - 1; d >= 0; --d) {
    view.strides[static_cast<std::size_t>(d)] = stride;
    stride *= view.shape[static_cast<std::size_t>(d)];
  }
  return view;
}

TensorView TensorView::matrix(void* data, DType dtype, std::int64_t rows, std::int64_t cols,
                              std::int64_t row_stride) {
  if (rows < 0 || cols < 0) {
    throw_invalid_argument(
        fmt::format("TensorView::matrix: shape ({}, {}) has a negative extent", rows, cols));
  }
  if (row_stride < cols) {
    throw_invalid_argument(fmt::format(
        "TensorView::matrix: row_stride = {} is smaller than cols = {} (rows would overlap)",
        row_stride, cols));
  }
  TensorView view;
  view.data = data;
  view.dtype = dtype;
  view.rank = 2;
  view.shape[0] = rows;
  view.shape[1] = cols;
  view.strides[0] = row_stride;
  view.strides[1] = 1;
  return view;
}

std::int64_t TensorView::numel() const {
  std::int64_t count = 1;
  for (int d = 0; d < rank; ++d) count *= shape[static_cast<std::size_t>(d)];
  return count;
}

// Row-major dense, ignoring the stride of extent-1 dimensions (as PyTorch does); an empty
// tensor addresses nothing and counts as contiguous.
bool TensorView::is_contiguous() const {
  if (numel() == 0) return true;
  std::int64_t expected = 1;
  for (int d = rank - 1; d >= 0; --d) {
    const auto i = static_cast<std::size_t>(d);
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

std::size_t TensorView::span_bytes() const {
  if (numel() == 0) return 0;
  std::int64_t last = 0;  // offset of the farthest element, in elements
  for (int d = 0; d < rank; ++d) {
    const auto i = static_cast<std::size_t>(d);
    last += (shape[i] - 1) * (strides[i] < 0 ? -strides[i] : strides[i]);
  }
  return static_cast<std::size_t>(last + 1) * dtype_size(dtype);
}

std::string TensorView::describe() const {
  const auto r = static_cast<std::size_t>(rank < 0 ? 0 : rank);
  const std::span<const std::int64_t> dims(shape.data(), r);
  const std::span<const std::int64_t> steps(strides.data(), r);
  return fmt::format("{}[{}] strides [{}]", dtype_name(dtype), fmt::join(dims, ", "),
                     fmt::join(steps, ", "));
}

}  // namespace fp8kit
