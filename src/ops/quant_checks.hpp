// The argument checks of fp8kit::quantize and prepare_block_scales that need no GPU. Each throws
// fp8kit::Error(kInvalidArgument) naming the argument and the rule; src/ops/quantize.cpp adds the
// device-memory checks.
#pragma once

#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::ops {

// Dtypes, ranks, shapes, strides, the scale buffer against scale_geometry, null and overlapping
// buffers, element alignment.
void check_quantize_args(const TensorView& x, const TensorView& q, const TensorView& scales, const QuantSpec& spec);
// The same for prepare_block_scales.
void check_block_scale_args(const TensorView& in, const TensorView& out);

}  // namespace fp8kit::ops
