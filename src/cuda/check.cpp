#include "cuda/check.hpp"

#include <fmt/format.h>

namespace fp8kit::cuda {

bool is_environment_error(cudaError_t status) {
  switch (status) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInitializationError:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
      return true;
    default:
      return false;
  }
}

void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
  const auto kind = is_environment_error(status) ? ErrorKind::kEnvironment : ErrorKind::kCheckFailed;
  throw Error(kind, fmt::format("CUDA error {} ({}): {} at {}:{}", cudaGetErrorName(status),
                                cudaGetErrorString(status), expr, file, line));
}

}  // namespace fp8kit::cuda
