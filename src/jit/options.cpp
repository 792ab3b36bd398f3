#include "jit/options.hpp"

#include <cstdlib>
#include <string_view>

#include "core/files.hpp"

namespace fp8kit::jit {
namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return false;
  const std::string_view s(v);
  return !(s.empty() || s == "0" || s == "false" || s == "off" || s == "no");
}

}  // namespace

JitOptions options_from_environment() {
  JitOptions o;
  o.cache_dir = default_cache_dir();
  o.debug = env_flag("FP8KIT_JIT_DEBUG");
  o.dump_sass = env_flag("FP8KIT_JIT_DUMP_SASS");
  o.fail_on_spill = env_flag("FP8KIT_JIT_FAIL_ON_SPILL");
  return o;
}

JitOptions& global_options() {
  static JitOptions options = options_from_environment();
  return options;
}

}  // namespace fp8kit::jit
