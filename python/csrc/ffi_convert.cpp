#include "ffi_convert.hpp"

#include <cuda_runtime_api.h>
#include <tvm/ffi/extra/c_env_api.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace fp8kit::python {
namespace {

namespace ffi = tvm::ffi;

[[noreturn]] void raise(const char* kind, const std::string& message) { throw ffi::Error(kind, message, ""); }

std::string dlpack_dtype_name(DLDataType d) {
  switch (d.code) {
    case kDLFloat: return fmt::format("float{}", d.bits);
    case kDLBfloat: return "bfloat16";
    case kDLInt: return fmt::format("int{}", d.bits);
    case kDLUInt: return fmt::format("uint{}", d.bits);
    case kDLFloat8_e4m3fn: return "float8_e4m3fn";
    case kDLFloat8_e5m2: return "float8_e5m2";
    default: return fmt::format("dlpack dtype code {} bits {}", d.code, d.bits);
  }
}

std::optional<DType> fp8kit_dtype(DLDataType d) {
  if (d.lanes != 1) return std::nullopt;
  if (d.code == kDLFloat && d.bits == 32) return DType::kFloat32;
  if (d.code == kDLFloat && d.bits == 16) return DType::kFloat16;
  if (d.code == kDLBfloat && d.bits == 16) return DType::kBFloat16;
  if (d.code == kDLFloat8_e4m3fn && d.bits == 8) return DType::kE4M3;
  if (d.code == kDLFloat8_e5m2 && d.bits == 8) return DType::kE5M2;
  return std::nullopt;
}

std::string device_name(DLDevice d) {
  switch (d.device_type) {
    case kDLCPU: return "cpu";
    case kDLCUDA: return fmt::format("cuda:{}", d.device_id);
    case kDLCUDAHost: return "cuda_host";
    case kDLCUDAManaged: return fmt::format("cuda_managed:{}", d.device_id);
    default: return fmt::format("dlpack device type {}", static_cast<int>(d.device_type));
  }
}

template <class Enum>
Enum parse_name(std::string_view name, std::initializer_list<Enum> values, std::string_view (*name_of)(Enum),
                const char* what) {
  std::string known;
  for (Enum v : values) {
    if (name_of(v) == name) return v;
    known += (known.empty() ? "" : ", ") + std::string(name_of(v));
  }
  raise("ValueError", fmt::format("unknown {} '{}' (one of: {})", what, name, known));
}

}  // namespace

DType dtype_of(const ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed) {
  const DLDataType d = t.dtype();
  std::optional<DType> dt = fp8kit_dtype(d);
  const bool e4m3_allowed = std::find(allowed.begin(), allowed.end(), DType::kE4M3) != allowed.end();
  if (!dt && e4m3_allowed && d.code == kDLUInt && d.bits == 8 && d.lanes == 1) dt = DType::kE4M3;  // its bytes
  if (dt && std::find(allowed.begin(), allowed.end(), *dt) != allowed.end()) return *dt;
  std::string names;
  for (DType a : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(a));
  if (e4m3_allowed) names += " (or its uint8 view)";
  raise("TypeError", fmt::format("{} has dtype {}; it must be {}", arg, dlpack_dtype_name(d), names));
}

TensorView dlpack_view(const ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed) {
  const DType dtype = dtype_of(t, arg, allowed);
  if (t.ndim() > TensorView::kMaxRank) {
    raise("ValueError",
          fmt::format("{} has {} dimensions; at most {} are supported", arg, t.ndim(), TensorView::kMaxRank));
  }
  TensorView v;
  v.data = static_cast<char*>(t.data_ptr()) + t.byte_offset();
  v.dtype = dtype;
  v.rank = t.ndim();
  std::int64_t compact = 1;
  for (int d = v.rank - 1; d >= 0; --d) {
    const auto i = static_cast<std::size_t>(d);
    v.shape[i] = t.size(d);
    v.strides[i] = t.strides().data() != nullptr ? t.stride(d) : compact;
    compact *= v.shape[i];
  }
  return v;
}

TensorView host_view(const ffi::TensorView& t, const char* arg, std::initializer_list<DType> allowed) {
  const TensorView v = dlpack_view(t, arg, allowed);
  if (t.device().device_type != kDLCPU) {
    raise("ValueError", fmt::format("{} is on {}; it must be a host (cpu) array", arg, device_name(t.device())));
  }
  return v;
}

int common_device(std::initializer_list<NamedTensor> tensors) {
  int device = -1;
  const char* first = nullptr;
  for (const auto& [t, arg] : tensors) {
    if (t == nullptr) continue;
    if (t->device().device_type != kDLCUDA) {
      raise("ValueError", fmt::format("{} is on {}; it must be a CUDA device array", arg, device_name(t->device())));
    }
    if (device >= 0 && t->device().device_id != device) {
      raise("ValueError", fmt::format("{} is on cuda:{} but {} on cuda:{}: every array of a call must be on one device",
                                      arg, t->device().device_id, first, device));
    }
    device = t->device().device_id;
    first = first == nullptr ? arg : first;
  }
  return device < 0 ? 0 : device;
}

void run_on_device(int device, std::int64_t stream, const std::function<void(cudaStream_t)>& fn) {
  int previous = -1;
  const bool switched = cudaGetDevice(&previous) == cudaSuccess && previous != device &&
                        cudaSetDevice(device) == cudaSuccess;
  (void)cudaGetLastError();  // a failed query here is reported by fp8kit's own device check
  struct Restore {
    bool on;
    int device;
    ~Restore() {
      if (on) cudaSetDevice(device);
    }
  } restore{switched, previous};
  try {
    fn(stream >= 0 ? reinterpret_cast<cudaStream_t>(static_cast<std::uintptr_t>(stream))
                   : static_cast<cudaStream_t>(TVMFFIEnvGetStream(kDLCUDA, device)));
  } catch (const Error& e) {
    rethrow_as_python(e);
  }
}

void rethrow_as_python(const Error& e) {
  raise(e.kind() == ErrorKind::kInvalidArgument ? "ValueError" : "RuntimeError", e.what());
}

Granularity parse_granularity(std::string_view name) {
  return parse_name(name,
                    {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel, Granularity::kPerGroup,
                     Granularity::kBlock128},
                    &granularity_name, "granularity");
}

ScaleLayout parse_layout(std::string_view name) {
  return parse_name(name, {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned},
                    &scale_layout_name, "scale layout");
}

ScaleModeA parse_mode_a(std::string_view name) {
  std::string_view (*name_of)(ScaleModeA) = &scale_mode_name;
  return parse_name(name, {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128}, name_of, "A scale mode");
}

ScaleModeB parse_mode_b(std::string_view name) {
  std::string_view (*name_of)(ScaleModeB) = &scale_mode_name;
  return parse_name(name, {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128}, name_of, "B scale mode");
}

}  // namespace fp8kit::python
