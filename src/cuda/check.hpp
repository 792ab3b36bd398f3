// Every CUDA runtime call goes through FP8KIT_CUDA_CHECK: a failure becomes fp8kit::Error naming
// the call, the error and the place.
#pragma once

#include <cuda_runtime_api.h>

#include "fp8kit/types.hpp"

namespace fp8kit::cuda {

// Errors that mean "no usable GPU or driver here" map to ErrorKind::kEnvironment (exit 3).
bool is_environment_error(cudaError_t status);

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line);

inline void check(cudaError_t status, const char* expr, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, expr, file, line);
}

}  // namespace fp8kit::cuda

#define FP8KIT_CUDA_CHECK(expr) ::fp8kit::cuda::check((expr), #expr, __FILE__, __LINE__)
