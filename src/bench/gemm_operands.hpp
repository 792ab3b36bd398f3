// The GEMM suite's device operands: FP8 codes quantized with fp8kit::quantize (the kernels
// linear() runs) with their scales, host-to-device uploads, and the rotation of input sets that
// cold timing cycles through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "bench/timing.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"

namespace fp8kit::bench {

TensorView with_data(TensorView v, void* data);
// The quantization spec of a weight scale mode (tensor, channel, 128x128 blocks).
QuantSpec weight_spec(ScaleModeB mode);

// Host-to-device copies and memsets run on the legacy stream, which a non-blocking stream does
// not wait for: finish them before the stream reads.
void upload(cuda::DeviceBuffer& dst, const std::vector<std::byte>& src);

// FP8 codes (rows, cols) and their scales in the GEMM's layout, on the device; on the host after
// download().
struct QuantOperand {
  std::int64_t rows = 0, cols = 0, scale_elems = 0;
  cuda::DeviceBuffer q, s;
  std::vector<std::uint8_t> host_q;
  std::vector<float> host_s;

  TensorView q_view() const { return TensorView::matrix(q.data(), DType::kE4M3, rows, cols, cols); }
  TensorView s_view() const { return TensorView::contiguous(s.data(), DType::kFloat32, {scale_elems}); }
  void download();
};

// Quantizes x with fp8kit::quantize and waits for it.
QuantOperand quantize_operand(const TensorView& x, const QuantSpec& spec, std::int64_t gemm_scale_elems,
                              cudaStream_t stream);

// One operand buffer of a timed call. A part that does not rotate is the same buffer in every set:
// activations that stay in L2, as the kernel that wrote them just before leaves them in serving.
struct RotationPart {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  bool rotates = true;
};

// The operands of one timed call, and for cold timing sets-1 further copies of the rotating ones:
// calls rotate through the sets so that together they exceed twice the L2 cache.
class Rotation {
 public:
  Rotation(std::vector<RotationPart> parts, const cuda::DeviceInfo& device, TimingMode mode, cudaStream_t stream);
  int sets() const { return sets_; }
  void* at(std::size_t part, int set) const;

 private:
  std::vector<RotationPart> parts_;
  std::vector<std::size_t> offsets_;
  std::size_t stride_ = 0;
  int sets_ = 1;
  cuda::DeviceBuffer copies_;
};

}  // namespace fp8kit::bench
