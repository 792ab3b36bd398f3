// Compile-with-cache: the disk cache in front of NVRTC. Works without a GPU (compile-only mode);
// loading onto a device is kernel_loader.hpp's job.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "jit/disk_cache.hpp"
#include "jit/kernel_source.hpp"
#include "jit/options.hpp"

namespace fp8kit::jit {

class KernelCompiler {
 public:
  explicit KernelCompiler(JitOptions options = global_options());

  // Hash of the generated source, every fp8kit header it includes (transitively), the NVRTC
  // version, the options, the target architecture and the library version (DESIGN.md §4).
  std::string cache_key(const KernelSource& source) const;

  // From the disk cache, or compiled by NVRTC and published there. Throws when the kernel does not
  // compile, or spills while fail_on_spill is set.
  CompiledKernel compile(const KernelSource& source) const;
  // Cache misses compile in parallel on `jobs` threads (0: one per hardware thread).
  std::vector<CompiledKernel> compile_all(std::span<const KernelSource> sources, unsigned jobs = 0) const;

  const JitOptions& options() const { return options_; }
  const DiskCache& disk_cache() const { return cache_; }

 private:
  std::vector<std::string> compile_options() const;
  void check_spills(const CompiledKernel& kernel) const;
  void dump_sass(const CompiledKernel& kernel) const;

  JitOptions options_;
  DiskCache cache_;
};

}  // namespace fp8kit::jit
