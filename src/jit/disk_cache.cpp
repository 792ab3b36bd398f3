#include "jit/disk_cache.hpp"

#include <unistd.h>

#include <atomic>
#include <random>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/result.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::jit {
namespace fs = std::filesystem;
namespace {

constexpr const char* kCubinFile = "kernel.cubin";
constexpr const char* kMetaFile = "meta.json";

std::string content_hash(const std::string& bytes) {
  Hasher h;
  h.update(bytes);
  return h.hex();
}

fs::path unique_temp_dir(const fs::path& parent) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  return parent / fmt::format(".tmp-{}-{}-{:08x}", ::getpid(), counter++, rd());
}

// Moves a bad entry aside before deleting it, so a concurrent reader never sees it half-removed.
void discard(const fs::path& dir) {
  std::error_code ec;
  const fs::path doomed = unique_temp_dir(dir.parent_path().parent_path());
  fs::rename(dir, doomed, ec);
  fs::remove_all(ec ? dir : doomed, ec);
}

nlohmann::json usage_to_json(const ResourceUsage& u) {
  return {{"registers", u.registers},
          {"stack_frame_bytes", u.stack_frame_bytes},
          {"spill_store_bytes", u.spill_store_bytes},
          {"spill_load_bytes", u.spill_load_bytes}};
}

ResourceUsage usage_from_json(const nlohmann::json& j) {
  ResourceUsage u;
  u.registers = j.at("registers").get<int>();
  u.stack_frame_bytes = j.at("stack_frame_bytes").get<int>();
  u.spill_store_bytes = j.at("spill_store_bytes").get<int>();
  u.spill_load_bytes = j.at("spill_load_bytes").get<int>();
  return u;
}

}  // namespace

DiskCache::DiskCache(fs::path root) : root_(std::move(root)) {}

fs::path DiskCache::entry_dir(const std::string& name, const std::string& key) const {
  return kernels_dir() / name / key;
}

std::optional<CompiledKernel> DiskCache::load(const std::string& name, const std::string& key) const {
  const fs::path dir = entry_dir(name, key);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  try {
    const nlohmann::json meta = nlohmann::json::parse(read_file(dir / kMetaFile));
    CompiledKernel k;
    k.name = name;
    k.key = key;
    k.cubin = read_file(dir / kCubinFile);
    if (meta.at("key").get<std::string>() != key || meta.at("cubin_bytes").get<std::size_t>() != k.cubin.size() ||
        meta.at("cubin_hash").get<std::string>() != content_hash(k.cubin)) {
      throw std::runtime_error("checksum mismatch");
    }
    k.usage = usage_from_json(meta.at("usage"));
    k.log = meta.value("log", "");
    k.from_disk_cache = true;
    return k;
  } catch (const std::exception&) {
    discard(dir);  // corrupt or half-deleted: recompile rather than trust it
    return std::nullopt;
  }
}

void DiskCache::store(const CompiledKernel& kernel, const std::string& source) const {
  const fs::path final_dir = entry_dir(kernel.name, kernel.key);
  std::error_code ec;
  fs::create_directories(final_dir.parent_path(), ec);
  if (ec) throw_environment(fmt::format("cannot create kernel cache folder {}: {}", final_dir.parent_path().string(), ec.message()));
  const fs::path tmp = unique_temp_dir(kernels_dir());
  fs::create_directories(tmp, ec);
  if (ec) throw_environment(fmt::format("cannot create {}: {}", tmp.string(), ec.message()));
  try {
    const nlohmann::json meta = {{"name", kernel.name},
                                 {"key", kernel.key},
                                 {"cubin_bytes", kernel.cubin.size()},
                                 {"cubin_hash", content_hash(kernel.cubin)},
                                 {"usage", usage_to_json(kernel.usage)},
                                 {"log", kernel.log},
                                 {"created_utc", iso8601_utc_now()}};
    write_file_atomic(tmp / kCubinFile, kernel.cubin);
    write_file_atomic(tmp / "source.cu", source);
    write_file_atomic(tmp / "compile.log", kernel.log);
    write_file_atomic(tmp / kMetaFile, meta.dump(2));  // written last: its presence means complete
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::rename(tmp, final_dir, ec);
  if (ec) fs::remove_all(tmp, ec);  // another process published this entry first: keep theirs
}

std::vector<CacheEntryInfo> DiskCache::list() const {
  std::vector<CacheEntryInfo> entries;
  std::error_code ec;
  if (!fs::is_directory(kernels_dir(), ec)) return entries;
  for (const auto& name_dir : fs::directory_iterator(kernels_dir(), ec)) {
    if (!name_dir.is_directory() || name_dir.path().filename().string().starts_with(".tmp-")) continue;
    for (const auto& key_dir : fs::directory_iterator(name_dir.path(), ec)) {
      CacheEntryInfo info;
      info.name = name_dir.path().filename().string();
      info.key = key_dir.path().filename().string();
      info.dir = key_dir.path();
      for (const auto& f : fs::directory_iterator(key_dir.path(), ec)) {
        if (f.is_regular_file()) info.bytes += f.file_size();
      }
      try {
        const nlohmann::json meta = nlohmann::json::parse(read_file(key_dir.path() / kMetaFile));
        info.created_utc = meta.value("created_utc", "");
        info.usage = usage_from_json(meta.at("usage"));
      } catch (const std::exception&) {
        info.created_utc = "corrupt";
      }
      entries.push_back(std::move(info));
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const CacheEntryInfo& a, const CacheEntryInfo& b) { return std::tie(a.name, a.key) < std::tie(b.name, b.key); });
  return entries;
}

std::size_t DiskCache::clear() const {
  const std::size_t n = list().size();
  std::error_code ec;
  fs::remove_all(kernels_dir(), ec);
  if (ec) throw_environment(fmt::format("cannot clear kernel cache {}: {}", kernels_dir().string(), ec.message()));
  return n;
}

}  // namespace fp8kit::jit
