// Broadcasts one device-resident fp32 scale into a vector: cuBLASLt has no scalar x outer-vector
// scale-mode mix, so a per-tensor side of a per-token x per-channel style GEMM is expanded into
// an OUTER_VEC_32F vector before every call (the scale lives on the device and may change).
#pragma once

#include <fp8kit/common/types.cuh>

namespace fp8kit {

struct ScaleBroadcastParams {
  const float* src;  // one value
  float* dst;        // n values
  i64 n;
};

__device__ __forceinline__ void broadcast_scale(const ScaleBroadcastParams& p) {
  const float v = *p.src;
  const i64 step = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n; i += step) p.dst[i] = v;
}

}  // namespace fp8kit
