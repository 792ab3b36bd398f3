#include "tune/tuned_configs.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "core/files.hpp"
#include "tune/gemm_config_json.hpp"
#include "tune/tune_plan.hpp"

namespace fp8kit::tune {

std::int64_t nearest_batch_size(std::span<const std::int64_t> sorted, std::int64_t m) {
  if (sorted.empty()) throw_invalid_argument("nearest_batch_size: no batch sizes");
  const auto above = std::lower_bound(sorted.begin(), sorted.end(), m);
  if (above == sorted.end()) return sorted.back();
  if (above == sorted.begin() || *above == m) return *above;
  const std::int64_t below = *std::prev(above);
  return m - below <= *above - m ? below : *above;
}

TunedConfigStore TunedConfigStore::load_dir(const std::filesystem::path& dir, std::vector<std::string>& problems) {
  TunedConfigStore store;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    problems.push_back(fmt::format("cannot read the tuned-config directory {}: {}", dir.string(), ec.message()));
    return store;
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kTunedFilePrefix) || !name.ends_with(".json") || is_atomic_temp_name(name)) continue;
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());  // a stable winner if two files hold the same key
  for (const auto& path : paths) {
    try {
      store.add(read_tuned_config_file(path));
    } catch (const Error& e) {
      problems.push_back(fmt::format("skipping {}", e.what()));
    }
  }
  return store;
}

void TunedConfigStore::add(TunedConfigFile file) {
  Key key{file.n, file.k, file.out, file.device};
  files_.insert_or_assign(std::move(key), std::move(file));
}

std::optional<GemmConfig> TunedConfigStore::find(const GemmShape& shape, DType out, std::string_view device) const {
  const auto it = files_.find(Key{shape.n, shape.k, out, std::string(device)});
  if (it == files_.end() || shape.m < 1) return std::nullopt;
  std::vector<std::int64_t> ms;
  for (const auto& [m, b] : it->second.batches) ms.push_back(m);
  // Nearest first (ties: the smaller M), then outwards.
  std::stable_sort(ms.begin(), ms.end(), [&](std::int64_t a, std::int64_t b) {
    const auto da = std::abs(a - shape.m), db = std::abs(b - shape.m);
    return da != db ? da < db : a < b;
  });
  for (std::int64_t m : ms) {
    const GemmConfig& c = it->second.batches.at(m).config;
    if (is_valid(c, shape)) return c;
  }
  return std::nullopt;
}

TunedConfigLookup::TunedConfigLookup(std::optional<std::filesystem::path> dir, WarnFn warn)
    : dir_(std::move(dir)), warn_(std::move(warn)) {}

std::optional<GemmConfig> TunedConfigLookup::find(const GemmShape& shape, DType out, std::string_view device) {
  if (!dir_) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (!store_) {
    std::vector<std::string> problems;
    store_ = TunedConfigStore::load_dir(*dir_, problems);
    for (const std::string& p : problems) warn_(fmt::format("tuned configs: {}", p));
  }
  auto found = store_->find(shape, out, device);
  if (!found && warned_.emplace(shape.n, shape.k, out, std::string(device)).second) {
    warn_(fmt::format("tuned configs: none for N={}, K={}, out={} on {} in {} (M={}); using the default heuristic",
                      shape.n, shape.k, tuned_out_name(out), device, dir_->string(), shape.m));
  }
  return found;
}

namespace {

std::optional<std::filesystem::path> env_config_dir() {
  const char* v = std::getenv("FP8KIT_CONFIG_DIR");
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::filesystem::path(v);
}

struct GlobalLookup {
  std::mutex mutex;
  bool dir_set = false;
  std::optional<std::filesystem::path> dir;
  std::unique_ptr<TunedConfigLookup> lookup;
};

GlobalLookup& global() {
  static GlobalLookup g;
  return g;
}

}  // namespace

void set_tuned_config_dir(std::optional<std::filesystem::path> dir) {
  GlobalLookup& g = global();
  std::lock_guard lock(g.mutex);
  g.dir_set = true;
  g.dir = std::move(dir);
  g.lookup.reset();
}

std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out, std::string_view device_name) {
  GlobalLookup& g = global();
  TunedConfigLookup* lookup = nullptr;
  {
    std::lock_guard lock(g.mutex);
    if (!g.lookup) {
      g.lookup = std::make_unique<TunedConfigLookup>(g.dir_set ? g.dir : env_config_dir(), [](const std::string& message) {
        std::fprintf(stderr, "fp8kit: warning: %s\n", message.c_str());
      });
    }
    lookup = g.lookup.get();
  }
  return lookup->find(shape, out, device_name);
}

}  // namespace fp8kit::tune
