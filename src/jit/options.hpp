// JIT knobs (DESIGN.md §4): environment variables, overridable by the CLI's flags.
#pragma once

#include <filesystem>
#include <string>

namespace fp8kit::jit {

struct JitOptions {
  std::filesystem::path cache_dir;  // FP8KIT_CACHE_DIR (default: $XDG_CACHE_HOME/fp8kit)
  bool debug = false;               // FP8KIT_JIT_DEBUG: log compiles and cache hits, add -lineinfo
  bool dump_sass = false;           // FP8KIT_JIT_DUMP_SASS: write cuobjdump's SASS beside the cubin
  bool fail_on_spill = false;       // FP8KIT_JIT_FAIL_ON_SPILL: a kernel that spills is an error
  std::string arch = "sm_90a";
};

JitOptions options_from_environment();

// The process-wide options every JIT call uses; read from the environment on first use.
JitOptions& global_options();

}  // namespace fp8kit::jit
