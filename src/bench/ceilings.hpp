// Measured device ceilings that reports compare against (`fp8kit info --measure`), stored as JSON
// beside the kernel cache (<cache dir>/ceilings.json), one record per device UUID.
#pragma once

#include <cuda_runtime_api.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

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

struct CopyMeasurement {
  double gbps = 0;
  double us_median = 0, us_p20 = 0, us_p80 = 0;
  std::size_t bytes_per_copy = 0;  // read + written
};

// Copies `buffer_bytes` device to device with the JIT-compiled 16-byte copy kernel, verifies the
// copy, and times it with the graph harness.
CopyMeasurement measure_copy_bandwidth(cudaStream_t stream, std::size_t buffer_bytes = std::size_t{512} << 20);

}  // namespace fp8kit::bench
