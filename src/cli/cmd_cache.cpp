// fp8kit cache ls|clear|warm: the JIT kernel cache.
#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "core/gemm_config_json.hpp"
#include "core/model_shapes.hpp"
#include "core/tuned_configs.hpp"
#include "cuda/device.hpp"
#include "jit/compiler.hpp"
#include "jit/disk_cache.hpp"
#include "jit/options.hpp"
#include "ops/sm90_fp8_gemm.hpp"
#include "tune/cache_warm.hpp"

namespace fp8kit::cli {
namespace {

struct WarmArgs {
  std::string model;
  int tp = 1;
  std::vector<std::int64_t> batch_sizes = tune::default_tune_batch_sizes();
  std::string out_dtype = "bfloat16";
  ScalePairFlags scales;  // the scale pair the model's GEMMs use
  std::string config_dir;  // "none", or "" (FP8KIT_CONFIG_DIR, else the shipped configs)
  std::string device_name;  // default: the GPU's (needed to match tuned files without a GPU)
  int sm_count = 0;         // default: the GPU's, else 132 (H100 SXM)
  bool show_configs = false;
};

// One JSON line per (N, K, M): the config it runs and whether a tuned file chose it.
void show_configs(const std::vector<tune::ShapeChoice>& choices) {
  for (const auto& [s, k] : choices) {
    const nlohmann::json line = {{"n", s.n}, {"k", s.k}, {"m", s.m}, {"tuned", k.tuned},
                                 {"kernel_name", kernel_name(k.config)}, {"config", config_to_json(k.config)}};
    fmt::print("{}\n", line.dump());
  }
}

// Compiles (N, K) x M of the model into the JIT cache so serving never compiles on a request.
void run_warm(const WarmArgs& a) {
  const DType out = parse_dtype(a.out_dtype);
  const TunedScales scales = a.scales.parse();
  std::vector<tune::NK> shapes;
  for (const LinearShape& s : model_shapes(a.model, a.tp)) shapes.push_back({s.n, s.k});
  std::string device = a.device_name;
  int sm_count = a.sm_count;
  if (cuda::device_count() > 0 && (device.empty() || sm_count == 0)) {
    const cuda::DeviceInfo info = cuda::current_device_info();
    if (device.empty()) device = info.name;
    if (sm_count == 0) sm_count = info.sm_count;
  }
  if (sm_count == 0) sm_count = 132;
  const TunedConfigSource source = tuned_config_source_for_flag(a.config_dir);
  std::optional<TunedConfigLookup> lookup;
  if (source.kind != TunedConfigSource::Kind::kNone && !device.empty()) {
    lookup.emplace(source, [](const std::string& w) { fmt::print(stderr, "fp8kit: warning: {}\n", w); });
  } else if (source.kind != TunedConfigSource::Kind::kNone) {
    fmt::print(stderr, "fp8kit: warning: no GPU and no --device-name: tuned configs in {} cannot be matched\n",
               source.path.string());
  }
  const auto tuned_config = [&](const GemmShape& s) -> std::optional<GemmConfig> {
    return lookup ? lookup->find(s, out, device, scales) : std::nullopt;
  };
  const auto heuristic_config = [&](const GemmShape& s) {
    return ops::default_gemm_config(s, scales.a, scales.b, out, sm_count);
  };
  if (a.show_configs) {
    return show_configs(tune::configs_by_shape(shapes, a.batch_sizes, tuned_config, heuristic_config));
  }
  const auto kernels = tune::kernels_to_warm(shapes, a.batch_sizes, tuned_config, heuristic_config);
  std::vector<jit::KernelSource> sources;
  int tuned = 0;
  for (const tune::WarmKernel& k : kernels) {
    sources.push_back(ops::sm90_fp8_gemm_source(k.config));
    tuned += k.tuned;
  }
  jit::JitOptions options = jit::global_options();
  options.fail_on_spill = true;
  const jit::KernelCompiler compiler(options);
  const auto start = std::chrono::steady_clock::now();
  const auto compiled = compiler.compile_all(sources);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int hits = 0;
  for (const auto& c : compiled) hits += c.from_disk_cache;
  fmt::print("# {} at TP {}: {} shapes x {} batch sizes -> {} kernels ({} tuned, {} default heuristic{})\n", a.model,
             a.tp, shapes.size(), a.batch_sizes.size(), kernels.size(), tuned, kernels.size() - tuned,
             device.empty() ? "" : ", device " + device);
  fmt::print("{} compiled, {} already cached, {:.2f} s, cache {}\n", compiled.size() - hits, hits, seconds,
             compiler.disk_cache().root().string());
}

}  // namespace

void add_cache_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("cache", "list or clear the JIT kernel cache");
  cmd->require_subcommand(1);
  cmd->add_subcommand("ls", "list cached kernels")->callback([] {
    const jit::DiskCache cache(jit::global_options().cache_dir);
    const auto entries = cache.list();
    fmt::print("# kernel cache {}: {} entries\n", cache.root().string(), entries.size());
    if (entries.empty()) return;
    fmt::print("{:<56} {:<12} {:>9} {:>5} {:>6}  {}\n", "kernel", "key", "bytes", "regs", "spill", "created");
    for (const auto& e : entries) {
      fmt::print("{:<56} {:<12} {:>9} {:>5} {:>6}  {}\n", e.name, e.key.substr(0, 12), e.bytes, e.usage.registers,
                 e.usage.spill_store_bytes + e.usage.spill_load_bytes, e.created_utc);
    }
  });
  cmd->add_subcommand("clear", "remove every cached kernel")->callback([] {
    const jit::DiskCache cache(jit::global_options().cache_dir);
    const std::size_t removed = cache.clear();
    fmt::print("removed {} cached kernels from {}\n", removed, cache.root().string());
  });
  auto warm = std::make_shared<WarmArgs>();
  CLI::App* w = cmd->add_subcommand("warm", "compile every GEMM kernel a model will use (tuned or default) into the cache");
  w->add_option("--model", warm->model, "model name (see shapes --list) or config.json")->required();
  w->add_option("--tp", warm->tp, "tensor-parallel size")->capture_default_str()->check(CLI::PositiveNumber);
  w->add_option("--batch-sizes", warm->batch_sizes, "batch sizes M served")->capture_default_str()->check(CLI::PositiveNumber);
  w->add_option("--out-dtype", warm->out_dtype, "GEMM output dtype")->capture_default_str();
  add_scale_pair_flags(*w, warm->scales);
  w->add_option("--config-dir", warm->config_dir, "tuned configs, or none (default: FP8KIT_CONFIG_DIR, else the shipped ones)")->type_name("DIR");
  w->add_option("--device-name", warm->device_name, "device the tuned configs are for (default: this GPU's)");
  w->add_option("--sm-count", warm->sm_count, "SMs for the default heuristic (default: this GPU's, else 132)")
      ->check(CLI::PositiveNumber);
  w->add_flag("--show-configs", warm->show_configs,
              "print each (N, K, M)'s config as a JSON line (tuned or the heuristic's) instead of compiling");
  w->callback([warm] { run_warm(*warm); });
}

}  // namespace fp8kit::cli
