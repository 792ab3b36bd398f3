#include "ops/gemm_config_choice.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/tuned_configs.hpp"
#include "ops/sm90_fp8_gemm.hpp"

namespace fp8kit::ops {
namespace {

struct CallKey {
  std::int64_t m, n, k;
  ScaleModeA mode_a;
  ScaleModeB mode_b;
  DType out;
  bool fast_accum;
  int device_index, sm_count;
  friend bool operator==(const CallKey&, const CallKey&) = default;
};

struct CallKeyHash {
  std::size_t operator()(const CallKey& c) const noexcept {
    std::size_t h = std::hash<std::int64_t>{}(c.m);
    const auto mix = [&h](std::uint64_t v) {
      h ^= std::hash<std::uint64_t>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    };
    mix(static_cast<std::uint64_t>(c.n));
    mix(static_cast<std::uint64_t>(c.k));
    mix(static_cast<std::uint64_t>(c.mode_a) | static_cast<std::uint64_t>(c.mode_b) << 8 |
        static_cast<std::uint64_t>(c.out) << 16 | static_cast<std::uint64_t>(c.fast_accum) << 24);
    mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.device_index)) << 32 |
        static_cast<std::uint32_t>(c.sm_count));
    return h;
  }
};

// The device's name is checked on a hit rather than hashed on every call: a device index keeps its
// name for the life of a process (tests reuse an index under other names).
struct Choice {
  std::string device_name;
  GemmConfig config;
};

struct Memo {
  std::shared_mutex mutex;
  std::uint64_t generation = 0;  // of the tuned lookup that made the choices held
  std::unordered_map<CallKey, Choice, CallKeyHash> choices;
};

Memo& memo() {
  static Memo m;
  return m;
}

GemmConfig choose_afresh(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b, DType out, bool fast_accum,
                         const cuda::DeviceInfo& device) {
  std::optional<GemmConfig> config = find_tuned_config(shape, out, device.name, {mode_a, mode_b}, fast_accum);
  if (!config) config = default_gemm_config(shape, mode_a, mode_b, out, device.sm_count);
  config->fast_accum = fast_accum;
  return *config;
}

}  // namespace

GemmConfig choose_gemm_config(const GemmShape& shape, ScaleModeA mode_a, ScaleModeB mode_b, DType out,
                              bool fast_accum, const cuda::DeviceInfo& device) {
  const CallKey key{shape.m, shape.n, shape.k, mode_a, mode_b, out, fast_accum, device.index, device.sm_count};
  // Read before choosing: a choice made while the lookup changes is filed under the older
  // generation and so never served after the change.
  const std::uint64_t generation = tuned_config_generation();
  Memo& m = memo();
  {
    std::shared_lock lock(m.mutex);
    if (m.generation == generation) {
      const auto it = m.choices.find(key);
      if (it != m.choices.end() && it->second.device_name == device.name) return it->second.config;
    }
  }
  const GemmConfig config = choose_afresh(shape, mode_a, mode_b, out, fast_accum, device);
  std::unique_lock lock(m.mutex);
  if (generation > m.generation) {
    m.choices.clear();
    m.generation = generation;
  }
  if (generation == m.generation) {
    if (m.choices.size() >= kMaxRememberedGemmConfigs) m.choices.clear();
    m.choices.insert_or_assign(key, Choice{device.name, config});
  }
  return config;
}

std::size_t remembered_gemm_configs() {
  Memo& m = memo();
  std::shared_lock lock(m.mutex);
  return m.choices.size();
}

}  // namespace fp8kit::ops
