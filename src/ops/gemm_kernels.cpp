#include "ops/gemm_kernels.hpp"

#include <fmt/format.h>

namespace fp8kit::ops {
namespace {

std::string_view out_tag(DType out) {
  switch (out) {
    case DType::kFloat32: return "f32";
    case DType::kFloat16: return "f16";
    case DType::kBFloat16: return "bf16";
    default: break;
  }
  throw Error(ErrorKind::kInvalidArgument, fmt::format("GEMM out dtype must be float, half or bfloat16, got {}",
                                                       dtype_name(out)));
}

}  // namespace

jit::KernelSource reference_gemm_source(ScaleModeA mode_a, ScaleModeB mode_b, DType out) {
  jit::KernelSource s;
  s.name = fmt::format("ref_scaled_gemm_a-{}_b-{}_{}", scale_mode_name(mode_a), scale_mode_name(mode_b),
                       out_tag(out));
  s.source = fmt::format(
      "// generated: {0}\n"
      "#include <fp8kit/ref/scaled_gemm.cuh>\n"
      "extern \"C\" __global__ void __launch_bounds__({1} * {1}) fp8kit_entry(const __grid_constant__ "
      "fp8kit::RefGemmParams p) {{\n"
      "  fp8kit::ref_scaled_gemm<{2}, {3}, {4}>(p);\n"
      "}}\n",
      s.name, kRefGemmTile, gemm_scale_enum(mode_a), gemm_scale_enum(mode_b), gemm_out_enum(out));
  return s;
}

std::vector<jit::KernelSource> reference_gemm_sources() {
  std::vector<jit::KernelSource> all;
  for (ScaleModeA a : {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}) {
    for (ScaleModeB b : {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}) {
      for (DType out : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
        all.push_back(reference_gemm_source(a, b, out));
      }
    }
  }
  return all;
}

std::string_view gemm_scale_enum(ScaleModeA m) {
  switch (m) {
    case ScaleModeA::kTensor: return "fp8kit::kGemmScaleATensor";
    case ScaleModeA::kToken: return "fp8kit::kGemmScaleAToken";
    case ScaleModeA::kGroup128: return "fp8kit::kGemmScaleAGroup128";
  }
  throw Error(ErrorKind::kInvalidArgument, "unknown ScaleModeA");
}

std::string_view gemm_scale_enum(ScaleModeB m) {
  switch (m) {
    case ScaleModeB::kTensor: return "fp8kit::kGemmScaleBTensor";
    case ScaleModeB::kChannel: return "fp8kit::kGemmScaleBChannel";
    case ScaleModeB::kBlock128: return "fp8kit::kGemmScaleBBlock128";
  }
  throw Error(ErrorKind::kInvalidArgument, "unknown ScaleModeB");
}

std::string_view gemm_out_enum(DType out) {
  out_tag(out);  // throws for a dtype that is not an out dtype
  switch (out) {
    case DType::kFloat32: return "fp8kit::kGemmOutF32";
    case DType::kFloat16: return "fp8kit::kGemmOutF16";
    default: return "fp8kit::kGemmOutBF16";
  }
}

int gemm_bias_code(const std::optional<DType>& bias) {
  if (!bias) return 0;
  switch (*bias) {
    case DType::kFloat32: return 1;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 3;
    default: break;
  }
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bias must be float, half or bfloat16, got {}", dtype_name(*bias)));
}

}  // namespace fp8kit::ops
