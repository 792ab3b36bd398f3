// DType names and sizes (include/fp8kit/types.hpp).
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

struct DTypeName {
  std::string_view name;
  DType dtype;
};

// Canonical names first (dtype_name returns these), then the aliases parse_dtype also accepts.
constexpr DTypeName kDTypeNames[] = {
    {"float", DType::kFloat32},   {"half", DType::kFloat16},       {"bfloat16", DType::kBFloat16},
    {"e4m3", DType::kE4M3},       {"e5m2", DType::kE5M2},          {"fp32", DType::kFloat32},
    {"float32", DType::kFloat32}, {"fp16", DType::kFloat16},       {"float16", DType::kFloat16},
    {"bf16", DType::kBFloat16},   {"float8_e4m3fn", DType::kE4M3}, {"float8_e5m2", DType::kE5M2},
};

}  // namespace

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float";
    case DType::kFloat16:
      return "half";
    case DType::kBFloat16:
      return "bfloat16";
    case DType::kE4M3:
      return "e4m3";
    case DType::kE5M2:
      return "e5m2";
  }
  throw_invalid_argument(
      fmt::format("dtype_name: unknown dtype value {}", static_cast<int>(dtype)));
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
      return 2;
    case DType::kE4M3:
    case DType::kE5M2:
      return 1;
  }
  throw_invalid_argument(
      fmt::format("dtype_size: unknown dtype value {}", static_cast<int>(dtype)));
}

DType parse_dtype(std::string_view name) {
  for (const auto& entry : kDTypeNames) {
    if (entry.name == name) return entry.dtype;
  }
  std::string accepted;
  for (const auto& entry : kDTypeNames) {
    if (!accepted.empty()) accepted += ", ";
    accepted += entry.name;
  }
  throw_invalid_argument(fmt::format("dtype: unknown name '{}' (accepted: {})", name, accepted));
}

}  // namespace fp8kit
