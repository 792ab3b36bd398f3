// Using tuned configs: a directory of the tuner's files (the --config-dir option or
// FP8KIT_CONFIG_DIR) is loaded once; a GEMM of shape (M, N, K) takes the config tuned at the
// nearest M (ties to the smaller M) for its (N, K, out dtype) on this device. Without one it falls
// back to the default heuristic, with a one-time warning per (N, K, out dtype).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/gemm_config.hpp"
#include "tune/tuned_config_file.hpp"

namespace fp8kit::tune {

// The element of `sorted` (ascending, non-empty) nearest to m; on a tie the smaller one.
std::int64_t nearest_batch_size(std::span<const std::int64_t> sorted, std::int64_t m);

// The tuned files of one directory, keyed by (N, K, out dtype, device name). Files whose name does
// not start with kTunedFilePrefix or end in ".json", and atomic-write temporaries, are ignored; a
// corrupt file is reported in `problems` and skipped, never half used.
class TunedConfigStore {
 public:
  static TunedConfigStore load_dir(const std::filesystem::path& dir, std::vector<std::string>& problems);

  void add(TunedConfigFile file);  // replaces a file with the same key
  // The config of the nearest tuned M that is valid for `shape` (a config tuned at another M can
  // break an M rule, e.g. cluster_m = 2 needs an even tile count); nullopt when there is none.
  std::optional<GemmConfig> find(const GemmShape& shape, DType out, std::string_view device) const;
  std::size_t size() const { return files_.size(); }

 private:
  using Key = std::tuple<std::int64_t, std::int64_t, DType, std::string>;
  std::map<Key, TunedConfigFile> files_;
};

// The process-wide lookup of find_tuned_config: loads the directory on first use and warns once
// per missing (N, K, out dtype) through `warn`.
class TunedConfigLookup {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  TunedConfigLookup(std::optional<std::filesystem::path> dir, WarnFn warn);

  std::optional<GemmConfig> find(const GemmShape& shape, DType out, std::string_view device);
  const std::optional<std::filesystem::path>& dir() const { return dir_; }

 private:
  std::optional<std::filesystem::path> dir_;
  WarnFn warn_;
  std::mutex mutex_;
  std::optional<TunedConfigStore> store_;
  std::set<std::tuple<std::int64_t, std::int64_t, DType, std::string>> warned_;
};

// The config directory: set_tuned_config_dir() if called (nullopt turns tuned configs off), else
// $FP8KIT_CONFIG_DIR when set and non-empty, else none. Setting it reloads on next use.
void set_tuned_config_dir(std::optional<std::filesystem::path> dir);

// For the group128 x block128 GEMM: the tuned config for `shape` and `out` on the named device, or
// nullopt (no directory configured: silently; otherwise with the one-time warning on stderr).
std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out, std::string_view device_name);
// The same on the current CUDA device (its name is queried once per device ordinal).
std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out);

}  // namespace fp8kit::tune
