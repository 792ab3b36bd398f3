// NVRTC: generated source + embedded headers -> cubin for one architecture, with ptxas's
// resource report. Needs no GPU and no driver.
#pragma once

#include <string>
#include <vector>

#include "jit/kernel_source.hpp"

namespace fp8kit::jit {

// What ptxas reported for the entry point (-Xptxas -v).
struct ResourceUsage {
  int registers = -1;
  int stack_frame_bytes = 0;
  int spill_store_bytes = 0;
  int spill_load_bytes = 0;
  bool spills() const { return spill_store_bytes > 0 || spill_load_bytes > 0; }
};

struct CompiledKernel {
  std::string name;
  std::string key;  // cache key (hex)
  std::string cubin;
  std::string ptx;  // fresh compiles only (empty when the kernel came from the disk cache)
  std::string log;  // NVRTC's program log, ptxas report included
  ResourceUsage usage;
  bool from_disk_cache = false;
};

std::vector<std::string> nvrtc_options(const std::string& arch, bool line_info);
std::string nvrtc_version_string();

// Compiles `source` (throws fp8kit::Error with the log on failure); key is left empty.
CompiledKernel nvrtc_compile(const KernelSource& source, const std::vector<std::string>& options);

ResourceUsage parse_ptxas_report(const std::string& log);

}  // namespace fp8kit::jit
