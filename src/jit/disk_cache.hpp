// The persistent kernel cache: <root>/kernels/<kernel name>/<key>/{kernel.cubin, source.cu,
// compile.log, meta.json}. Entries are built in a temporary folder and renamed into place, so a
// half-written entry is never read; an entry that fails its checksum is removed and recompiled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jit/nvrtc_compile.hpp"

namespace fp8kit::jit {

struct CacheEntryInfo {
  std::string name;
  std::string key;
  std::filesystem::path dir;
  std::uintmax_t bytes = 0;
  std::string created_utc;
  ResourceUsage usage;
};

class DiskCache {
 public:
  explicit DiskCache(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path entry_dir(const std::string& name, const std::string& key) const;

  // The cached kernel, or nothing on a miss. A corrupt entry is removed and counts as a miss.
  std::optional<CompiledKernel> load(const std::string& name, const std::string& key) const;
  // Publishes atomically; when another process published the same entry first, keeps theirs.
  void store(const CompiledKernel& kernel, const std::string& source) const;

  std::vector<CacheEntryInfo> list() const;
  // Removes every entry and leftover temporary folder; returns the number of entries removed.
  std::size_t clear() const;

 private:
  std::filesystem::path kernels_dir() const { return root_ / "kernels"; }
  std::filesystem::path root_;
};

}  // namespace fp8kit::jit
