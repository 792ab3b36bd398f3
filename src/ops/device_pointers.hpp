// The ops' check that every tensor they launch on is device memory of the current device
// (cudaPointerGetAttributes), with a per-thread memory of pointers already found to be: the query
// costs about as much host time as a launch, and serving calls the same few activation buffers
// and the same weights over and over.
#pragma once

namespace fp8kit::ops {

// Throws fp8kit::Error(kInvalidArgument) "<what>: <arg> must be device memory, ..." for a host or
// unregistered pointer and "<what>: <arg> lives on device D, but the current device is C" for
// another GPU's; a failing query is the CUDA error.
void check_device_pointer(const void* p, const char* arg, int device, const char* what);

// The same, but a pointer this thread has already found to be device memory of `device` is not
// queried again. Remembered: up to kRememberedDevicePointers per thread (then forgotten at once).
// Not detected: a pointer freed and its address reused for host memory while remembered.
void check_device_pointer_remembered(const void* p, const char* arg, int device, const char* what);
inline constexpr int kRememberedDevicePointers = 4096;

}  // namespace fp8kit::ops
