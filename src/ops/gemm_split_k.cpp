#include "ops/gemm_split_k.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <fp8kit/gemm/split_k_params.cuh>

#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "jit/kernel_loader.hpp"
#include "core/gemm_config.hpp"
#include "ops/gemm_kernels.hpp"

namespace fp8kit::ops {
namespace {
constexpr int kReduceThreads = 256;
}  // namespace

jit::KernelSource split_k_reduce_source(DType out) {
  jit::KernelSource s;
  s.name = fmt::format("split_k_reduce_{}", gemm_out_name(out));
  s.entry = "fp8kit_split_k_reduce";  // its own name for ncu, beside the GEMM's
  s.source = fmt::format(
      "// generated: {0}\n"
      "#include <fp8kit/gemm/split_k_reduce.cuh>\n"
      "extern \"C\" __global__ void __launch_bounds__({2})\n"
      "    {3}(const __grid_constant__ fp8kit::SplitKReduceParams p) {{\n"
      "  fp8kit::split_k_reduce<{1}>(p);\n"
      "}}\n",
      s.name, gemm_out_enum(out), kReduceThreads, s.entry);
  return s;
}

namespace {
// Loaded once per out dtype: the reduce runs after every split GEMM of a few microseconds, where
// generating and comparing its source on each call would be host time on the hot path.
const jit::LoadedKernel& reduce_kernel(DType out) {
  static std::mutex mutex;
  static std::map<DType, const jit::LoadedKernel*> kernels;
  std::lock_guard lock(mutex);
  const jit::LoadedKernel*& k = kernels[out];
  if (k == nullptr) k = &jit::load_kernel(split_k_reduce_source(out));
  return *k;
}
}  // namespace

float* split_k_workspace(std::size_t bytes, cudaStream_t stream) {
  static std::mutex mutex;
  // Every buffer is held until exit, outgrown ones too: a graph captured earlier may still use one.
  static auto* buffers = new std::map<std::pair<int, cudaStream_t>, std::vector<cuda::DeviceBuffer>>();
  int device = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard lock(mutex);
  std::vector<cuda::DeviceBuffer>& held = (*buffers)[{device, stream}];
  if (held.empty() || held.back().bytes() < bytes) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    FP8KIT_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
    if (status != cudaStreamCaptureStatusNone) return nullptr;
    held.emplace_back(std::max(bytes, held.empty() ? bytes : 2 * held.back().bytes()));
  }
  return held.back().as<float>();
}

void launch_split_k_reduce(const float* partials, int split_k, std::int64_t split_rows, const TensorView& out,
                           const std::optional<TensorView>& bias, cudaStream_t stream) {
  SplitKReduceParams p{};
  p.partials = partials;
  p.out = out.data;
  p.bias = bias ? bias->data : nullptr;
  p.ld_out = out.size(0) > 1 ? out.stride(0) : out.size(1);
  p.m = static_cast<std::int32_t>(out.size(0));
  p.n = static_cast<std::int32_t>(out.size(1));
  p.split_k = split_k;
  p.split_rows = static_cast<std::int32_t>(split_rows);
  p.bias_dtype = gemm_bias_code(bias ? std::optional<DType>(bias->dtype) : std::nullopt);
  const std::int64_t quads = out.size(0) * (out.size(1) / 4);
  const int sms = cuda::current_device_info_cached().sm_count;
  const std::int64_t blocks = std::clamp<std::int64_t>((quads + kReduceThreads - 1) / kReduceThreads, 1, 4 * sms);
  reduce_kernel(out.dtype).launch_with(dim3(static_cast<unsigned>(blocks)), dim3(kReduceThreads), 0, stream, p,
                jit::LaunchOrder::kProgrammatic);
}

}  // namespace fp8kit::ops
