// Quantization vocabulary (DESIGN.md §3) and the GPU entry points fp8kit::quantize and
// prepare_block_scales; the CPU reference in src/core uses the same types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fp8kit/types.hpp"

namespace fp8kit {

// vLLM's group shapes.
enum class Granularity : std::uint8_t {
  kPerTensor,   // one scale for the whole tensor
  kPerToken,    // one scale per row of an activation (M, K)
  kPerChannel,  // one scale per output row of a weight W (N, K): per-token applied to W
  kPerGroup,    // 1 x G groups along K, G in {32, 64, 128}
  kBlock128,    // 128 x 128 blocks of a weight (N, K), ragged edges allowed
};

// Where 1 x G group scales go. Per-tensor/token/channel scales are plain vectors; 128x128 block
// scales are always row-major with a 16-byte-aligned leading dimension.
enum class ScaleLayout : std::uint8_t {
  kRowMajor,           // (M, K/G), stride (K/G, 1)
  kColMajor,           // stride (1, M)
  kColMajorTmaAligned  // stride (1, round_up(M, 4)); padding entries are 0
};

struct QuantSpec {
  Granularity granularity = Granularity::kPerToken;
  int group_size = 128;  // kPerGroup only
  ScaleLayout layout = ScaleLayout::kRowMajor;  // kPerGroup only
  bool ue8m0 = false;    // round each scale up to a power of two
  std::optional<float> scale_ub;  // kPerToken only: amax = min(amax, scale_ub)
  bool static_scales = false;     // scales are inputs, not computed (tensor, token, group)

  std::string describe() const;  // "per-group128 col-major-tma ue8m0"
};

std::string_view granularity_name(Granularity g);  // "per-tensor", "per-token", ...
std::string_view scale_layout_name(ScaleLayout l);  // "row-major", "col-major", "col-major-tma"

// Shape and strides of the fp32 scale tensor for a spec and an input of (rows, cols).
// alloc_elems counts every element of the buffer, padding included.
struct ScaleGeometry {
  std::int64_t rows = 0;         // logical scale rows (1 for per-tensor)
  std::int64_t cols = 0;         // logical scale columns
  std::int64_t row_stride = 0;   // elements between scale rows
  std::int64_t col_stride = 0;   // elements between scale columns
  std::int64_t alloc_elems = 0;  // buffer size in elements, padding included
  std::int64_t offset(std::int64_t r, std::int64_t c) const { return r * row_stride + c * col_stride; }
};

// Checks the spec against the input shape (K % G == 0, G in {32,64,128}, scale_ub only with
// per-token, ...) and throws fp8kit::Error naming the rule.
void validate(const QuantSpec& spec, std::int64_t rows, std::int64_t cols);
ScaleGeometry scale_geometry(const QuantSpec& spec, std::int64_t rows, std::int64_t cols);

// Two implementations behind one interface (vLLM's bench_per_token_quant_fp8.py compares the same):
enum class QuantImpl : std::uint8_t {
  kFp8kit,  // fused kernels: one read of x and one write of q (two reads for dynamic per-tensor)
  kNaive,   // the unfused path eager frameworks run: separate amax, scale and cast kernels
};
std::string_view quant_impl_name(QuantImpl impl);   // "fp8kit", "naive"
QuantImpl parse_quant_impl(std::string_view name);  // throws fp8kit::Error naming the value

struct QuantizeOptions {
  QuantImpl impl = QuantImpl::kFp8kit;
  // kFp8kit only: programmatic dependent launch. The kernel may be scheduled while the previous
  // kernel in the stream still runs, and waits for it to finish before it touches memory, so
  // most of the launch latency of a small call overlaps the previous kernel. Results are the
  // same either way; false gives plain launches (the naive path always uses those).
  bool programmatic_launch = true;
};

// Quantizes x (rows, cols) to q (rows, cols) E4M3 on `stream` (DESIGN.md §3), bit for bit equal
// to the CPU reference in src/core/ref_quant.hpp.
//   x:      device, rank 2, fp32/fp16/bf16, unit column stride, any row stride >= cols
//           (16-byte-aligned rows take the vectorized path).
//   q:      device, rank 2, E4M3, same shape, unit column stride, any row stride >= cols.
//   scales: device fp32 with scale_geometry(spec, rows, cols).alloc_elems elements (rank 1, or the
//           geometry's rank-2 shape and strides); written for dynamic specs (padding entries
//           set to 0), read for static ones.
// Allocates nothing, synchronizes nothing, is capturable in a CUDA graph and deterministic.
// Throws fp8kit::Error naming the argument and the rule on bad input; needs an sm_90 GPU.
void quantize(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec,
              cudaStream_t stream, const QuantizeOptions& options = {});

// Copies 128x128 block scales given in any strides (rows = ceil(N/128), cols = ceil(K/128)) into
// the padded row-major layout of DESIGN.md §3 (leading dimension round_up(cols, 4), padding 0).
// A one-time preparation step for weights, never a reinterpretation.
void prepare_block_scales(const TensorView& scales_in, const TensorView& scales_out, cudaStream_t stream);

}  // namespace fp8kit
