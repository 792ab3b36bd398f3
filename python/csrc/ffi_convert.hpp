// From TVM-FFI's arguments to fp8kit's: DLPack tensor views, names of modes, the caller's CUDA
// stream and device, and fp8kit::Error as the Python exception it stands for.
#pragma once

#include <tvm/ffi/tvm_ffi.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "fp8kit/gemm.hpp"
#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::python {

// The fp8kit dtypes an argument may have; E4M3 arguments also take their uint8 view (NumPy and
// CuPy have no float8 dtype). A dtype outside `allowed` is a TypeError naming the argument.
DType dtype_of(const tvm::ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed);

// fp8kit's view of a DLPack tensor on any device (dtype checked), byte_offset folded into the
// pointer, compact strides filled in. Where it lives is common_device's or host_view's check.
TensorView dlpack_view(const tvm::ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed);

// fp8kit's view of a host (CPU) DLPack tensor: any other device is a ValueError naming it.
TensorView host_view(const tvm::ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed);

// The one CUDA device every tensor argument lives on: another device type, or two devices, is a
// ValueError naming the argument. Called after every dtype check (TypeError comes first).
struct NamedTensor {
  const tvm::ffi::TensorView* tensor;  // nullptr: an absent optional argument
  const char* arg;
};
int common_device(std::initializer_list<NamedTensor> tensors);

// Runs fn on `device` (the current device restored after) on `stream`: the caller's (the Python
// layer passes torch's or CuPy's current stream), or, when -1, TVM-FFI's environment stream for
// the device. fp8kit::Error becomes ValueError (bad input) or RuntimeError (environment, checks).
void run_on_device(int device, std::int64_t stream, const std::function<void(cudaStream_t)>& fn);

// Names as fp8kit spells them ("per-token", "col-major-tma", "group128", "block128", "cublaslt");
// an unknown name is a ValueError listing the known ones.
Granularity parse_granularity(std::string_view name);
ScaleLayout parse_layout(std::string_view name);
ScaleModeA parse_mode_a(std::string_view name);
ScaleModeB parse_mode_b(std::string_view name);

// fp8kit::Error as the Python exception it stands for.
[[noreturn]] void rethrow_as_python(const Error& e);

}  // namespace fp8kit::python
