#include "blas/scale_broadcast.hpp"

#include <fmt/format.h>

namespace fp8kit::blas {

jit::KernelSource scale_broadcast_source() {
  jit::KernelSource s;
  s.name = "scale_broadcast_f32";
  s.source = fmt::format(
      "#include <fp8kit/gemm/scale_broadcast.cuh>\n"
      "extern \"C\" __global__ void __launch_bounds__({}) fp8kit_entry(const __grid_constant__ "
      "fp8kit::ScaleBroadcastParams p) {{\n"
      "  fp8kit::broadcast_scale(p);\n"
      "}}\n",
      kBroadcastThreads);
  return s;
}

}  // namespace fp8kit::blas
