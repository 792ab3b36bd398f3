#include "jit/compiler.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "fp8kit/types.hpp"
#include "fp8kit/version.hpp"
#include "jit/embedded_kernels.hpp"
#include "jit/nvrtc_compile.hpp"

namespace fp8kit::jit {

KernelCompiler::KernelCompiler(JitOptions options) : options_(std::move(options)), cache_(options_.cache_dir) {}

std::vector<std::string> KernelCompiler::compile_options() const {
  return nvrtc_options(options_.arch, options_.debug);
}

std::string KernelCompiler::cache_key(const KernelSource& source) const {
  Hasher h;
  h.update("fp8kit-kernel-cache-v1");
  h.update(version());
  h.update(nvrtc_version_string());
  h.update(options_.arch);
  for (const std::string& o : compile_options()) h.update(o);
  h.update(source.entry);
  h.update(source.source);
  for (std::string_view path : transitive_includes(source.source)) {
    h.update(path);
    h.update(embedded_header(path));
  }
  return h.hex();
}

void KernelCompiler::check_spills(const CompiledKernel& k) const {
  if (options_.fail_on_spill && k.usage.spills()) {
    throw Error(ErrorKind::kCheckFailed,
                fmt::format("kernel {} spills ({} bytes stored, {} loaded; FP8KIT_JIT_FAIL_ON_SPILL is set):\n{}", k.name,
                            k.usage.spill_store_bytes, k.usage.spill_load_bytes, k.log));
  }
}

void KernelCompiler::dump_sass(const CompiledKernel& k) const {
  const auto dir = cache_.entry_dir(k.name, k.key);
  const std::string cmd = fmt::format("cuobjdump --dump-sass '{}' > '{}' 2>&1", (dir / "kernel.cubin").string(),
                                      (dir / "kernel.sass").string());
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "fp8kit: FP8KIT_JIT_DUMP_SASS: cuobjdump failed for %s (is it on PATH?)\n", k.name.c_str());
  } else {
    std::fprintf(stderr, "fp8kit: SASS of %s in %s\n", k.name.c_str(), (dir / "kernel.sass").c_str());
  }
}

CompiledKernel KernelCompiler::compile(const KernelSource& source) const {
  const std::string key = cache_key(source);
  if (auto cached = cache_.load(source.name, key)) {
    if (options_.debug) std::fprintf(stderr, "fp8kit: jit cache hit %s (%s)\n", source.name.c_str(), key.c_str());
    check_spills(*cached);
    return std::move(*cached);
  }
  CompiledKernel k = nvrtc_compile(source, compile_options());
  k.key = key;
  if (options_.debug) {
    std::fprintf(stderr, "fp8kit: jit compiled %s: %d registers, %d B spilled\n%s\n", source.name.c_str(),
                 k.usage.registers, k.usage.spill_store_bytes, k.log.c_str());
  }
  check_spills(k);
  cache_.store(k, source.source);
  if (options_.dump_sass) dump_sass(k);
  return k;
}

std::vector<CompiledKernel> KernelCompiler::compile_all(std::span<const KernelSource> sources, unsigned jobs) const {
  std::vector<CompiledKernel> out(sources.size());
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = std::min<unsigned>(jobs, static_cast<unsigned>(std::max<std::size_t>(1, sources.size())));
  std::atomic<std::size_t> next{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < sources.size();) {
      try {
        out[i] = compile(sources[i]);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
  return out;
}

}  // namespace fp8kit::jit
