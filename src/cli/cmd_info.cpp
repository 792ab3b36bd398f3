// fp8kit info [--measure] [--json]: versions, the device, and its measured ceilings.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/ceilings.hpp"
#include "bench/gemm_ceilings.hpp"
#include "cli/commands.hpp"
#include "core/result.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/version.hpp"
#include "jit/options.hpp"

namespace fp8kit::cli {
namespace {

struct InfoArgs {
  bool measure = false;
  bool json = false;
};

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

bench::DeviceCeilings measure(const cuda::DeviceInfo& device) {
  cuda::Stream stream;
  // Two sizes: the driver's copy and the kernels do not peak at the same one.
  bench::CopyMeasurement copy;
  for (std::size_t mib : {256, 1024}) {
    const bench::CopyMeasurement m = bench::measure_copy_bandwidth(stream.get(), mib << 20);
    for (bench::CopyVariant v : m.variants) {
      v.name += fmt::format("_{}MiB", mib);
      copy.variants.push_back(v);
      if (v.gbps > copy.gbps) {
        copy.gbps = v.gbps;
        copy.best = v.name;
      }
    }
  }
  bench::DeviceCeilings c;
  const auto file = bench::ceilings_path(jit::global_options().cache_dir);
  if (auto old = bench::load_ceilings(file, device.uuid)) c = *old;  // keep other measurements
  c.device_name = device.name;
  c.device_uuid = device.uuid;
  c.measured_utc = iso8601_utc_now();
  c.git_revision = std::string(git_revision());
  c.copy_gbps = copy.gbps;
  for (const auto& [name, tflops] : bench::measure_gemm_ceilings(stream.get())) {
    c.extra[name] = tflops;
    std::fprintf(stderr, "%s %.1f (8192^3, graph replay median)\n", name.c_str(), tflops);
  }
  for (const bench::CopyVariant& v : copy.variants) c.extra["copy_gbps_" + v.name] = v.gbps;
  bench::store_ceilings(file, c);
  for (const bench::CopyVariant& v : copy.variants) {
    std::fprintf(stderr, "copy %-36s %8.1f us (p20 %.1f, p80 %.1f) -> %5.0f GB/s\n", v.name.c_str(), v.us_median,
                 v.us_p20, v.us_p80, v.gbps);
  }
  std::fprintf(stderr, "copy ceiling %.0f GB/s (%s), stored in %s\n", copy.gbps, copy.best.c_str(), file.c_str());
  return c;
}

void run_info(const InfoArgs& args) {
  const cuda::LibraryVersions v = cuda::library_versions();
  nlohmann::json out = {{"fp8kit_version", version()},
                        {"git_revision", git_revision()},
                        {"cuda_runtime", v.cuda_runtime},
                        {"cuda_driver", v.cuda_driver},
                        {"nvrtc", v.nvrtc},
                        {"cublaslt", v.cublaslt},
                        {"cache_dir", jit::global_options().cache_dir.string()}};
  const std::string reason = cuda::no_device_reason();
  if (!reason.empty()) {
    if (args.measure) cuda::require_device("fp8kit info --measure");  // throws: exit 3
    out["device"] = nullptr;
    out["no_device_reason"] = reason;
  } else {
    const cuda::DeviceInfo d = cuda::current_device_info();
    out["device"] = {{"index", d.index}, {"name", d.name}, {"uuid", d.uuid},
                     {"compute_capability", d.compute_capability()}, {"sm_count", d.sm_count},
                     {"memory_bytes", d.global_memory_bytes}, {"l2_bytes", d.l2_bytes},
                     {"smem_per_block_optin", d.smem_per_block_optin}};
    std::optional<bench::DeviceCeilings> ceilings =
        args.measure ? measure(d) : bench::load_ceilings(bench::ceilings_path(jit::global_options().cache_dir), d.uuid);
    if (ceilings) {
      out["ceilings"] = {{"copy_gbps", ceilings->copy_gbps}, {"measured_utc", ceilings->measured_utc},
                         {"git_revision", ceilings->git_revision}, {"extra", ceilings->extra}};
    }
  }
  if (args.json) {
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("fp8kit {} (git {})\n", version(), git_revision());
  fmt::print("libraries: CUDA runtime {}, driver {}, NVRTC {}, cuBLASLt {}\n", v.cuda_runtime, v.cuda_driver, v.nvrtc,
             v.cublaslt);
  fmt::print("kernel cache: {}\n", jit::global_options().cache_dir.string());
  if (out["device"].is_null()) {
    fmt::print("device: none ({}); GPU commands exit with code 3\n", reason);
    return;
  }
  const auto& d = out["device"];
  fmt::print("device {}: {} ({})\n", d["index"].get<int>(), d["name"].get<std::string>(), d["uuid"].get<std::string>());
  fmt::print("  compute capability {}, {} SMs, {:.1f} GiB, L2 {:.1f} MiB, shared memory per block {} KiB\n",
             d["compute_capability"].get<std::string>(), d["sm_count"].get<int>(),
             static_cast<double>(d["memory_bytes"].get<std::size_t>()) / kGiB,
             static_cast<double>(d["l2_bytes"].get<std::size_t>()) / kMiB, d["smem_per_block_optin"].get<std::size_t>() / 1024);
  if (out.contains("ceilings")) {
    const auto& c = out["ceilings"];
    fmt::print("  copy bandwidth {:.0f} GB/s (measured {}, git {})\n", c["copy_gbps"].get<double>(),
               c["measured_utc"].get<std::string>(), c["git_revision"].get<std::string>());
    for (const auto& [name, value] : c["extra"].items()) fmt::print("  {} {:.1f}\n", name, value.get<double>());
  } else {
    fmt::print("  ceilings not measured yet: run `fp8kit info --measure`\n");
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "device, library versions and measured ceilings");
  cmd->add_flag("--measure", args->measure, "measure the device copy bandwidth and store it (needs a GPU)");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([args] { run_info(*args); });
}

}  // namespace fp8kit::cli
