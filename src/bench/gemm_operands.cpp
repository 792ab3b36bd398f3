#include "bench/gemm_operands.hpp"

#include <algorithm>

#include "cuda/check.hpp"

namespace fp8kit::bench {
namespace {

constexpr std::size_t kAlign = 256;  // every operand of a rotated input set starts 256-byte aligned

std::size_t round_up(std::size_t a, std::size_t b) { return (a + b - 1) / b * b; }
std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

}  // namespace

TensorView with_data(TensorView v, void* data) {
  v.data = data;
  return v;
}

QuantSpec weight_spec(ScaleModeB mode) {
  QuantSpec spec;
  switch (mode) {
    case ScaleModeB::kTensor: spec.granularity = Granularity::kPerTensor; break;
    case ScaleModeB::kChannel: spec.granularity = Granularity::kPerChannel; break;
    case ScaleModeB::kBlock128: spec.granularity = Granularity::kBlock128; break;
  }
  return spec;
}

void upload(cuda::DeviceBuffer& dst, const std::vector<std::byte>& src) {
  dst.upload(src.data(), src.size());
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
}

void QuantOperand::download() {
  if (!host_q.empty() || rows * cols == 0) return;
  host_q.resize(sz(rows * cols));
  q.download(host_q.data(), host_q.size());
  host_s.resize(sz(scale_elems));
  s.download(host_s.data(), host_s.size() * 4);
}

QuantOperand quantize_operand(const TensorView& x, const QuantSpec& spec, std::int64_t gemm_scale_elems,
                              cudaStream_t stream) {
  QuantOperand op;
  op.rows = x.size(0);
  op.cols = x.size(1);
  op.scale_elems = gemm_scale_elems;
  const std::int64_t alloc = scale_geometry(spec, op.rows, op.cols).alloc_elems;
  op.q = cuda::DeviceBuffer(sz(op.rows * op.cols));
  op.s = cuda::DeviceBuffer(sz(std::max(alloc, gemm_scale_elems)) * 4);
  quantize(x, op.q_view(), TensorView::contiguous(op.s.data(), DType::kFloat32, {alloc}), spec, stream);
  FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
  return op;
}

Rotation::Rotation(std::vector<RotationPart> parts, const cuda::DeviceInfo& device, TimingMode mode, cudaStream_t stream)
    : parts_(std::move(parts)) {
  for (const RotationPart& p : parts_) {
    offsets_.push_back(stride_);
    if (p.rotates) stride_ += round_up(p.bytes, kAlign);
  }
  sets_ = mode == TimingMode::kCold ? cold_input_sets(stride_, device.l2_bytes) : 1;
  if (sets_ > 1) {
    copies_ = cuda::DeviceBuffer(stride_ * sz(sets_ - 1));
    for (int s = 1; s < sets_; ++s) {
      for (std::size_t p = 0; p < parts_.size(); ++p) {
        if (!parts_[p].rotates) continue;
        FP8KIT_CUDA_CHECK(cudaMemcpyAsync(at(p, s), parts_[p].ptr, parts_[p].bytes, cudaMemcpyDeviceToDevice, stream));
      }
    }
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
}

void* Rotation::at(std::size_t part, int set) const {
  if (set == 0 || !parts_[part].rotates) return parts_[part].ptr;
  return copies_.as<std::byte>() + stride_ * sz(set - 1) + offsets_[part];
}

}  // namespace fp8kit::bench
