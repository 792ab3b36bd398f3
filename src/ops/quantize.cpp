// fp8kit::quantize and prepare_block_scales: argument checks, the heuristic's plan, launches.
// The hot path after the first call: a few integer checks, the per-thread memory of pointers
// already found to be device memory (ops/device_pointers.hpp), a lookup of the loaded kernel by a
// packed integer key, and the launches.
#include <cuda_runtime_api.h>

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "cuda/device.hpp"
#include "fp8kit/quant.hpp"
#include "jit/kernel_loader.hpp"
#include "ops/device_pointers.hpp"
#include "ops/quant_checks.hpp"
#include "ops/quant_plan.hpp"

namespace fp8kit {
namespace {

constexpr int kMaxDevices = 64;

// The current device, checked once to be an sm_90 GPU; returns its SM count.
int checked_sm_count(int& device, const char* what) {
  static std::array<std::atomic<int>, kMaxDevices> sm_counts{};  // 0: not checked yet
  if (cudaGetDevice(&device) != cudaSuccess) {
    (void)cudaGetLastError();
    cuda::require_sm90(what);  // says why there is no usable GPU
    FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  }
  if (device < 0 || device >= kMaxDevices) cuda::require_sm90(what);
  auto& slot = sm_counts[static_cast<std::size_t>(device < 0 || device >= kMaxDevices ? 0 : device)];
  int sms = slot.load(std::memory_order_relaxed);
  if (sms == 0) {
    cuda::require_sm90(what);
    FP8KIT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    slot.store(sms, std::memory_order_relaxed);
  }
  return sms;
}

const jit::LoadedKernel& kernel_for(const ops::QuantKernelConfig& config) {
  static std::mutex mutex;
  static std::unordered_map<std::uint64_t, const jit::LoadedKernel*> kernels;
  const std::uint64_t key = config.key();
  {
    std::lock_guard lock(mutex);
    if (auto it = kernels.find(key); it != kernels.end()) return *it->second;
  }
  const jit::LoadedKernel& k = jit::load_kernel(ops::quant_kernel_source(config));  // compiles once
  std::lock_guard lock(mutex);
  kernels.emplace(key, &k);
  return k;
}

void launch(const ops::QuantLaunch& l, ops::QuantParams params, cudaStream_t stream, jit::LaunchOrder order) {
  params.items = l.items;
  params.atomic_amax = l.atomic_amax;
  kernel_for(l.config).launch_with(dim3(l.grid_x, l.grid_y), dim3(l.threads), 0, stream, params, order);
}

}  // namespace

void quantize(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec,
              cudaStream_t stream, const QuantizeOptions& options) {
  ops::check_quantize_args(x, q, scales, spec);
  if (options.impl != QuantImpl::kFp8kit && options.impl != QuantImpl::kNaive) {
    throw_invalid_argument(fmt::format("quantize: options.impl = {} is not a QuantImpl", static_cast<int>(options.impl)));
  }
  int device = 0;
  const int sms = checked_sm_count(device, "fp8kit::quantize");
  if (x.numel() == 0) return;  // M = 0 (or K = 0): nothing to read, nothing written
  ops::check_device_pointer_remembered(x.data, "x", device, "quantize");
  ops::check_device_pointer_remembered(q.data, "q", device, "quantize");
  ops::check_device_pointer_remembered(scales.data, "scales", device, "quantize");

  ops::QuantProblem pr;
  pr.input = x.dtype;
  pr.rows = x.size(0);
  pr.cols = x.size(1);
  pr.x_ld = x.size(0) > 1 ? x.stride(0) : x.size(1);
  pr.q_ld = q.size(0) > 1 ? q.stride(0) : q.size(1);
  pr.x_aligned16 = reinterpret_cast<std::uintptr_t>(x.data) % 16 == 0;
  pr.q_aligned8 = reinterpret_cast<std::uintptr_t>(q.data) % 8 == 0;
  pr.spec = spec;
  pr.impl = options.impl;
  ops::QuantPlan plan = ops::plan_quantize(pr, sms);
  plan.params.x = x.data;
  plan.params.q = static_cast<std::uint8_t*>(q.data);
  plan.params.scales = static_cast<float*>(scales.data);
  ops::launch_quant_plan(plan, stream, options.impl == QuantImpl::kFp8kit && options.programmatic_launch);
}

void prepare_block_scales(const TensorView& scales_in, const TensorView& scales_out, cudaStream_t stream) {
  ops::check_block_scale_args(scales_in, scales_out);
  int device = 0;
  checked_sm_count(device, "fp8kit::prepare_block_scales");
  const std::int64_t rows = scales_in.size(0), cols = scales_in.size(1), ld = (cols + 3) / 4 * 4;
  if (rows * ld == 0) return;
  ops::check_device_pointer(scales_out.data, "scales_out", device, "prepare_block_scales");
  if (rows * cols > 0) ops::check_device_pointer(scales_in.data, "scales_in", device, "prepare_block_scales");
  ops::QuantParams p;
  p.x = scales_in.data;
  p.scales = static_cast<float*>(scales_out.data);
  p.s_rs = scales_in.stride(0);
  p.s_cs = scales_in.stride(1);
  p.scale_rows = static_cast<int>(rows);
  p.scale_cols = static_cast<int>(cols);
  p.scale_cols_pad = static_cast<int>(ld);
  ops::QuantLaunch l;
  l.config.kind = ops::QuantKernelKind::kCopyBlockScales;
  l.config.input = DType::kFloat32;
  l.config.vector = false;
  l.grid_x = static_cast<unsigned>((rows * ld + 255) / 256);
  l.items = static_cast<std::uint32_t>(rows * ld);
  launch(l, p, stream, jit::LaunchOrder::kSerial);
}

}  // namespace fp8kit

namespace fp8kit::ops {

void launch_quant_plan(const QuantPlan& plan, cudaStream_t stream, bool programmatic) {
  if (plan.zero_scale0) FP8KIT_CUDA_CHECK(cudaMemsetAsync(plan.params.scales, 0, sizeof(float), stream));
  const jit::LaunchOrder order = programmatic ? jit::LaunchOrder::kProgrammatic : jit::LaunchOrder::kSerial;
  for (int i = 0; i < plan.launch_count; ++i) launch(plan.launches[static_cast<std::size_t>(i)], plan.params, stream, order);
}

}  // namespace fp8kit::ops
