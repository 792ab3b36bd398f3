// Using tuned configs: the tuner's files for this device are loaded once; a GEMM of shape (M, N, K)
// takes the config tuned at the nearest M (ties to the smaller M) for its (N, K, out dtype, scale
// pair). Without one it falls back to the default heuristic (with a one-time warning per (N, K, out
// dtype, scale pair) when the user named the directory). Where the files come from, first match wins:
//   1. set_tuned_config_dir() (fp8kit::set_gemm_config_dir, `--config-dir`): a directory of files
//      for any device; nullopt (`--config-dir none`) turns tuned configs off;
//   2. $FP8KIT_CONFIG_DIR, likewise; the value "none" turns them off;
//   3. the shipped configs: <root>/<device_file_tag(device name)>/ under the first root of
//      shipped_config_roots() that exists, so a user on an H200 gets configs/NVIDIA_H200 unasked.
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
#include "core/tuned_config_file.hpp"

namespace fp8kit {

// The element of `sorted` (ascending, non-empty) nearest to m; on a tie the smaller one.
std::int64_t nearest_batch_size(std::span<const std::int64_t> sorted, std::int64_t m);

// The tuned files of one directory, keyed by (N, K, out dtype, scale pair, device name). Files whose name does
// not start with kTunedFilePrefix or end in ".json", and atomic-write temporaries, are ignored; a
// corrupt file is reported in `problems` and skipped, never half used.
class TunedConfigStore {
 public:
  static TunedConfigStore load_dir(const std::filesystem::path& dir, std::vector<std::string>& problems);

  void add(TunedConfigFile file);  // replaces a file with the same key
  // The config of the nearest tuned M that is valid for `shape` (a config tuned at another M can
  // break an M rule, e.g. cluster_m = 2 needs an even tile count) and, with `fast_accum` (files
  // hold exact-accumulation tunes), for the unpromoted kernel; nullopt when there is none.
  std::optional<GemmConfig> find(const GemmShape& shape, DType out, std::string_view device, TunedScales scales = {},
                                 bool fast_accum = false) const;
  std::size_t size() const { return files_.size(); }
  bool has_scales(TunedScales scales) const;  // whether any file is for this scale pair

 private:
  using Key = std::tuple<std::int64_t, std::int64_t, DType, ScaleModeA, ScaleModeB, std::string>;
  std::map<Key, TunedConfigFile> files_;
};

// Where the tuned files of a lookup live.
struct TunedConfigSource {
  enum class Kind {
    kNone,     // tuned configs off
    kDir,      // `path` holds files for any device (the user's choice: misses are warned about)
    kShipped,  // `path` holds one folder per device, named device_file_tag(device name)
  };
  Kind kind = Kind::kNone;
  std::filesystem::path path;
  bool operator==(const TunedConfigSource&) const = default;
};

// Where shipped configs may be, in order: <executable dir>/configs (a relocated build),
// <executable dir>/../share/fp8kit/configs (`cmake --install`), the source tree's configs/ (a
// build tree; its path is compiled in).
std::vector<std::filesystem::path> shipped_config_roots();

// The source of rules 2 and 3 above: `config_dir_env` is $FP8KIT_CONFIG_DIR's value (null: unset),
// `roots` the candidates of rule 3.
TunedConfigSource default_tuned_config_source(const char* config_dir_env, const std::vector<std::filesystem::path>& roots);
// The source of a `--config-dir` value: "none" turns tuned configs off, "" defers to the default.
std::optional<TunedConfigSource> config_dir_flag_source(const std::string& flag);
// A command's `--config-dir` value, else $FP8KIT_CONFIG_DIR, else the shipped configs.
TunedConfigSource tuned_config_source_for_flag(const std::string& flag);

// A lookup over one source: loads each directory on first use, warns once per missing
// (N, K, out dtype, scale pair) of a kDir source through `warn`, for the scale pairs the directory
// has files for (a directory tuned for block scaling says nothing about a tensor-scaled GEMM).
class TunedConfigLookup {
 public:
  using WarnFn = std::function<void(const std::string&)>;
  TunedConfigLookup(TunedConfigSource source, WarnFn warn);
  TunedConfigLookup(std::optional<std::filesystem::path> dir, WarnFn warn);  // kDir, or kNone for nullopt

  std::optional<GemmConfig> find(const GemmShape& shape, DType out, std::string_view device, TunedScales scales = {},
                                 bool fast_accum = false);
  const TunedConfigSource& source() const { return source_; }

 private:
  TunedConfigSource source_;
  WarnFn warn_;
  std::mutex mutex_;
  std::map<std::filesystem::path, TunedConfigStore> stores_;
  std::set<std::tuple<std::int64_t, std::int64_t, DType, ScaleModeA, ScaleModeB, std::string>> warned_;
};

// Rule 1: a directory for every later lookup (nullopt: off); reset_tuned_config_dir() returns to
// rules 2 and 3. Either reloads on next use.
void set_tuned_config_dir(std::optional<std::filesystem::path> dir);
void reset_tuned_config_dir();
// The source find_tuned_config uses now.
TunedConfigSource current_tuned_config_source();
// Moves on with every set_tuned_config_dir / reset_tuned_config_dir: what find_tuned_config returned
// under an older generation may no longer be its answer (callers that memoize choices compare it).
std::uint64_t tuned_config_generation();

// The tuned config for `shape`, `out` and the scale pair on the named device (TunedConfigStore::find),
// or nullopt (with the one-time warning on stderr for a directory the user named).
std::optional<GemmConfig> find_tuned_config(const GemmShape& shape, DType out, std::string_view device_name,
                                            TunedScales scales = {}, bool fast_accum = false);

}  // namespace fp8kit
