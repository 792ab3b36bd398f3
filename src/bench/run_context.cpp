#include "bench/run_context.hpp"

#include <utility>

#include "fp8kit/version.hpp"

namespace fp8kit::bench {

RunContext make_run_context(const std::optional<cuda::DeviceInfo>& device, const cuda::LibraryVersions& versions,
                            std::string_view timing_mode, std::string command_line, std::string date_utc) {
  RunContext c;
  if (device) {
    c.device = device->name;
    c.device_uuid = device->uuid;
    c.compute_capability = device->compute_capability();
  } else {
    c.device = "none";
  }
  c.cuda_runtime = versions.cuda_runtime;
  c.cuda_driver = versions.cuda_driver;
  c.nvrtc = versions.nvrtc;
  c.cublaslt = versions.cublaslt;
  c.fp8kit_version = std::string(version());
  c.git_revision = std::string(git_revision());
  c.timing_mode = std::string(timing_mode);
  c.command_line = std::move(command_line);
  c.date_utc = std::move(date_utc);
  return c;
}

RunContext current_run_context(TimingMode mode, std::string command_line) {
  std::optional<cuda::DeviceInfo> device;
  if (cuda::device_count() > 0) device = cuda::current_device_info();
  return make_run_context(device, cuda::library_versions(), timing_mode_name(mode), std::move(command_line),
                          iso8601_utc_now());
}

}  // namespace fp8kit::bench
