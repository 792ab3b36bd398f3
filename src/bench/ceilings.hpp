// Measured device ceilings that reports compare against (`fp8kit info --measure`), stored as JSON
// beside the kernel cache (<cache dir>/ceilings.json), one record per device UUID.
#pragma once

#include <cuda_runtime_api.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/stats.hpp"
#include "cuda/device.hpp"
#include "jit/kernel_loader.hpp"
#include "jit/kernel_source.hpp"

namespace fp8kit::bench {

struct DeviceCeilings {
  std::string device_name;
  std::string device_uuid;
  std::string measured_utc;
  std::string git_revision;
  double copy_gbps = 0;  // device-to-device copy, bytes read + bytes written per second / 1e9
  // Later measurements (e.g. "cublaslt_fp8_tflops", "cublaslt_bf16_tflops") by name.
  std::map<std::string, double> extra;
};

std::filesystem::path ceilings_path(const std::filesystem::path& cache_dir);
std::optional<DeviceCeilings> load_ceilings(const std::filesystem::path& file, const std::string& device_uuid);
// Replaces the record of this device and keeps the others; the file is written atomically.
void store_ceilings(const std::filesystem::path& file, const DeviceCeilings& ceilings);

struct CopyVariant {
  std::string name;  // kernel name, or "cudaMemcpyAsync"
  double gbps = 0;
  double us_median = 0, us_p20 = 0, us_p80 = 0;
};

struct CopyMeasurement {
  double gbps = 0;                 // the best variant: the ceiling
  std::string best;                // its name
  std::size_t bytes_per_copy = 0;  // read + written
  std::vector<CopyVariant> variants;
};

// The copy kernels measure_copy_bandwidth runs (CPU tests compile each for sm_90a).
std::vector<jit::KernelSource> copy_kernel_sources();

// Copies `buffer_bytes` device to device with a few shapes of the JIT-compiled 16-byte copy kernel
// and with cudaMemcpyAsync, verifies each copy, and times them with the graph harness. The ceiling
// is the fastest: a copy kernel slower than the driver's would understate it. 256 MiB by default:
// the driver's copy peaks there on an H200 (4223-4245 GB/s; 2714-2768 at 1 GiB, lower at 512 MiB,
// where `bench quant`'s own measurement once fell back to a kernel's 3942).
CopyMeasurement measure_copy_bandwidth(cudaStream_t stream, std::size_t buffer_bytes = std::size_t{256} << 20);

// This device's copy ceiling from the ceilings file of the kernel cache; measured now (about a
// second, measure_copy_bandwidth) and stored there when missing. Prints where it came from.
double stored_copy_ceiling(const cuda::DeviceInfo& device, cudaStream_t stream);

// The kernel measure_launch_floor times: one block of 32 threads that only waits for the
// previous grid and releases the next, as fp8kit's quantization kernels do.
jit::KernelSource empty_kernel_source();

// Per-call µs of the empty kernel in the graph harness: the floor a small call is held against.
Summary measure_launch_floor(cudaStream_t stream, jit::LaunchOrder order);

}  // namespace fp8kit::bench
