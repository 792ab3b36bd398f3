// A generated kernel translation unit: one extern "C" entry point per cubin (DESIGN.md §4).
#pragma once

#include <string>

namespace fp8kit::jit {

struct KernelSource {
  std::string name;    // kernel_name(config): names the cache folder, log lines and result rows
  std::string source;  // the generated .cu text; includes embedded <fp8kit/...> headers only
  std::string entry = "fp8kit_entry";
};

}  // namespace fp8kit::jit
