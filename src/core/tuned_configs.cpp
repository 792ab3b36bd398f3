#include "core/tuned_configs.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/gemm_config_json.hpp"


namespace fp8kit {

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
  Key key{file.n, file.k, file.out, file.mode_a, file.mode_b, file.device};
  files_.insert_or_assign(std::move(key), std::move(file));
}

bool TunedConfigStore::has_scales(TunedScales scales) const {
  return std::any_of(files_.begin(), files_.end(), [&](const auto& entry) {
    return entry.second.mode_a == scales.a && entry.second.mode_b == scales.b;
  });
}

std::optional<GemmConfig> TunedConfigStore::find(const GemmShape& shape, DType out, std::string_view device,
                                                 TunedScales scales, bool fast_accum) const {
  const auto it = files_.find(Key{shape.n, shape.k, out, scales.a, scales.b, std::string(device)});
  if (it == files_.end() || shape.m < 1) return std::nullopt;
  std::vector<std::int64_t> ms;
  for (const auto& [m, b] : it->second.batches) ms.push_back(m);
  // Nearest first (ties: the smaller M), then outwards.
  std::stable_sort(ms.begin(), ms.end(), [&](std::int64_t a, std::int64_t b) {
    const auto da = std::abs(a - shape.m), db = std::abs(b - shape.m);
    return da != db ? da < db : a < b;
  });
  for (std::int64_t m : ms) {
    GemmConfig c = it->second.batches.at(m).config;
    c.fast_accum = fast_accum;
    if (is_valid(c, shape)) return c;
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> shipped_config_roots() {
  std::vector<std::filesystem::path> roots;
  // Beside the file this code was linked into (the Python package's extension, whose wheel
  // carries configs/ next to it) and beside the executable (the fp8kit binary; glibc names the
  // main program by argv[0], so its path comes from /proc).
  std::vector<std::filesystem::path> files;
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&shipped_config_roots), &info) != 0 && info.dli_fname != nullptr) {
    files.emplace_back(info.dli_fname);
  }
  files.emplace_back("/proc/self/exe");
  for (const std::filesystem::path& f : files) {
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::canonical(f, ec);
    if (ec) continue;
    for (const std::filesystem::path& root :
         {self.parent_path() / "configs", self.parent_path().parent_path() / "share" / "fp8kit" / "configs"}) {
      if (std::find(roots.begin(), roots.end(), root) == roots.end()) roots.push_back(root);
    }
  }
#ifdef FP8KIT_SOURCE_CONFIG_DIR
  roots.emplace_back(FP8KIT_SOURCE_CONFIG_DIR);
#endif
  return roots;
}

TunedConfigSource default_tuned_config_source(const char* config_dir_env, const std::vector<std::filesystem::path>& roots) {
  if (config_dir_env != nullptr && *config_dir_env != '\0') {
    if (std::string_view(config_dir_env) == "none") return {};
    return {TunedConfigSource::Kind::kDir, config_dir_env};
  }
  for (const std::filesystem::path& root : roots) {
    std::error_code ec;
    if (std::filesystem::is_directory(root, ec)) return {TunedConfigSource::Kind::kShipped, root};
  }
  return {};
}

std::optional<TunedConfigSource> config_dir_flag_source(const std::string& flag) {
  if (flag.empty()) return std::nullopt;
  if (flag == "none") return TunedConfigSource{};
  return TunedConfigSource{TunedConfigSource::Kind::kDir, flag};
}

TunedConfigSource tuned_config_source_for_flag(const std::string& flag) {
  return config_dir_flag_source(flag).value_or(
      default_tuned_config_source(std::getenv("FP8KIT_CONFIG_DIR"), shipped_config_roots()));
}

TunedConfigLookup::TunedConfigLookup(TunedConfigSource source, WarnFn warn)
    : source_(std::move(source)), warn_(std::move(warn)) {}

TunedConfigLookup::TunedConfigLookup(std::optional<std::filesystem::path> dir, WarnFn warn)
    : TunedConfigLookup(dir ? TunedConfigSource{TunedConfigSource::Kind::kDir, *dir} : TunedConfigSource{},
                        std::move(warn)) {}

std::optional<GemmConfig> TunedConfigLookup::find(const GemmShape& shape, DType out, std::string_view device,
                                                  TunedScales scales, bool fast_accum) {
  if (source_.kind == TunedConfigSource::Kind::kNone) return std::nullopt;
  const bool shipped = source_.kind == TunedConfigSource::Kind::kShipped;
  const std::filesystem::path dir = shipped ? source_.path / device_file_tag(device) : source_.path;
  std::lock_guard lock(mutex_);
  auto it = stores_.find(dir);
  if (it == stores_.end()) {
    std::vector<std::string> problems;
    std::error_code ec;
    // A device without shipped configs is normal: its folder is simply absent.
    TunedConfigStore store =
        shipped && !std::filesystem::is_directory(dir, ec) ? TunedConfigStore{} : TunedConfigStore::load_dir(dir, problems);
    for (const std::string& p : problems) warn_(fmt::format("tuned configs: {}", p));
    it = stores_.emplace(dir, std::move(store)).first;
  }
  auto found = it->second.find(shape, out, device, scales, fast_accum);
  if (!found && !shipped && it->second.has_scales(scales) &&
      warned_.emplace(shape.n, shape.k, out, scales.a, scales.b, std::string(device)).second) {
    warn_(fmt::format("tuned configs: none for N={}, K={}, out={}, scales {} on {} in {} (M={}); using the default "
                      "heuristic",
                      shape.n, shape.k, tuned_out_name(out), tuned_scales_tag(scales), device, dir.string(), shape.m));
  }
  return found;
}

namespace {

struct GlobalLookup {
  std::mutex mutex;
  std::atomic<std::uint64_t> generation{0};
  std::optional<TunedConfigSource> set_source;  // rule 1
  std::unique_ptr<TunedConfigLookup> lookup;
};

GlobalLookup& global() {
  static GlobalLookup g;
  return g;
}

TunedConfigSource source_locked(const GlobalLookup& g) {
  return g.set_source ? *g.set_source : default_tuned_config_source(std::getenv("FP8KIT_CONFIG_DIR"), shipped_config_roots());
}

}  // namespace

void set_tuned_config_dir(std::optional<std::filesystem::path> dir) {
  GlobalLookup& g = global();
  std::lock_guard lock(g.mutex);
  g.set_source = dir ? TunedConfigSource{TunedConfigSource::Kind::kDir, *dir} : TunedConfigSource{};
  g.lookup.reset();
  ++g.generation;
}

void reset_tuned_config_dir() {
  GlobalLookup& g = global();
  std::lock_guard lock(g.mutex);
  g.set_source.reset();
  g.lookup.reset();
  ++g.generation;
}

std::uint64_t tuned_config_generation() { return global().generation.load(); }

TunedConfigSource current_tuned_config_source() {
  GlobalLookup& g = global();
  std::lock_guard lock(g.mutex);
  return g.lookup ? g.lookup->source() : source_locked(g);
}

std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out, std::string_view device_name,
                                            TunedScales scales, bool fast_accum) {
  GlobalLookup& g = global();
  TunedConfigLookup* lookup = nullptr;
  {
    std::lock_guard lock(g.mutex);
    if (!g.lookup) {
      g.lookup = std::make_unique<TunedConfigLookup>(source_locked(g), [](const std::string& message) {
        std::fprintf(stderr, "fp8kit: warning: %s\n", message.c_str());
      });
    }
    lookup = g.lookup.get();
  }
  return lookup->find(shape, out, device_name, scales, fast_accum);
}

}  // namespace fp8kit
