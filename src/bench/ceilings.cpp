#include "bench/ceilings.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/timing.hpp"
#include "core/files.hpp"
#include "core/result.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/types.hpp"
#include "fp8kit/version.hpp"
#include "jit/kernel_loader.hpp"
#include "jit/options.hpp"

namespace fp8kit::bench {
namespace fs = std::filesystem;
namespace {

struct CopyShape {
  int threads;
  int unroll;
  int blocks_per_sm;
  bool tiled;
};
constexpr CopyShape kCopyShapes[] = {{256, 4, 8, false}, {256, 2, 8, true}, {256, 4, 8, true}, {512, 8, 4, true}};

jit::KernelSource copy_kernel_source(const CopyShape& shape) {
  jit::KernelSource s;
  s.name = fmt::format("copy_vec16_t{}_u{}_{}", shape.threads, shape.unroll, shape.tiled ? "tiled" : "strided");
  s.source = fmt::format(
      "#include <fp8kit/bench/copy.cuh>\n"
      "extern \"C\" __global__ void __launch_bounds__({0}) fp8kit_entry(const __grid_constant__ fp8kit::CopyParams p) {{\n"
      "  fp8kit::copy_vectors<{1}, {2}>(p);\n"
      "}}\n",
      shape.threads, shape.unroll, shape.tiled);
  return s;
}

// Mirrors kernels/fp8kit/bench/copy.cuh's CopyParams.
struct CopyParams {
  const void* src;
  void* dst;
  std::uint64_t vectors;
};

nlohmann::json read_all(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return nlohmann::json::object();
  try {
    nlohmann::json j = nlohmann::json::parse(read_file(file));
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  throw Error(ErrorKind::kEnvironment, fmt::format("{} is corrupt; delete it and run `fp8kit info --measure` again", file.string()));
}

}  // namespace

std::vector<jit::KernelSource> copy_kernel_sources() {
  std::vector<jit::KernelSource> sources;
  for (const CopyShape& shape : kCopyShapes) sources.push_back(copy_kernel_source(shape));
  return sources;
}

jit::KernelSource empty_kernel_source() {
  return {"empty_kernel",
          "#include <fp8kit/common/pdl.cuh>\n"
          "extern \"C\" __global__ void __launch_bounds__(32) fp8kit_entry() {\n"
          "  fp8kit::wait_prior_grid_and_release_next();\n"
          "}\n"};
}

Summary measure_launch_floor(cudaStream_t stream, jit::LaunchOrder order) {
  const jit::LoadedKernel& kernel = jit::load_kernel(empty_kernel_source());
  return time_launches([&](cudaStream_t s, int) { kernel.launch(dim3(1), dim3(32), 0, s, nullptr, order); }, 1, stream);
}

fs::path ceilings_path(const fs::path& cache_dir) { return cache_dir / "ceilings.json"; }

std::optional<DeviceCeilings> load_ceilings(const fs::path& file, const std::string& device_uuid) {
  const nlohmann::json all = read_all(file);
  if (!all.contains(device_uuid)) return std::nullopt;
  const nlohmann::json& j = all.at(device_uuid);
  DeviceCeilings c;
  c.device_uuid = device_uuid;
  c.device_name = j.value("device_name", "");
  c.measured_utc = j.value("measured_utc", "");
  c.git_revision = j.value("git_revision", "");
  c.copy_gbps = j.value("copy_gbps", 0.0);
  c.extra = j.value("extra", std::map<std::string, double>{});
  return c;
}

void store_ceilings(const fs::path& file, const DeviceCeilings& c) {
  nlohmann::json all = read_all(file);
  all[c.device_uuid] = {{"device_name", c.device_name}, {"measured_utc", c.measured_utc},
                        {"git_revision", c.git_revision}, {"copy_gbps", c.copy_gbps}, {"extra", c.extra}};
  write_file_atomic(file, all.dump(2) + "\n");
}

CopyMeasurement measure_copy_bandwidth(cudaStream_t stream, std::size_t buffer_bytes) {
  buffer_bytes = buffer_bytes / 16 * 16;
  const cuda::DeviceInfo device = cuda::current_device_info();
  cuda::DeviceBuffer src(buffer_bytes), dst(buffer_bytes);
  // A pattern, not zeros: checks that every vector was copied.
  std::vector<std::uint32_t> pattern(buffer_bytes / 4);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint32_t>(i * 2654435761u);
  src.upload(pattern);

  CopyMeasurement m;
  m.bytes_per_copy = 2 * buffer_bytes;
  auto measure = [&](const std::string& name, const LaunchFn& launch) {
    dst.fill_bytes(0xFF);
    launch(stream, 0);
    FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (dst.download_all<std::uint32_t>() != pattern) {
      throw Error(ErrorKind::kCheckFailed, fmt::format("copy verification failed for {}: the copy differs from its source", name));
    }
    TimingConfig config;
    config.target_replay_ms = 20;
    const Summary t = time_launches(launch, 1, stream, config);
    const CopyVariant v{name, static_cast<double>(m.bytes_per_copy) / (t.median * 1e3), t.median, t.p20, t.p80};
    if (v.gbps > m.gbps) {
      m.gbps = v.gbps;
      m.best = name;
    }
    m.variants.push_back(v);
  };

  const CopyParams params{src.data(), dst.data(), buffer_bytes / 16};
  for (const CopyShape& shape : kCopyShapes) {
    const jit::KernelSource source = copy_kernel_source(shape);
    const jit::LoadedKernel& kernel = jit::load_kernel(source);
    const dim3 grid(static_cast<unsigned>(device.sm_count * shape.blocks_per_sm));
    measure(source.name, [&](cudaStream_t s, int) { kernel.launch_with(grid, dim3(shape.threads), 0, s, params); });
  }
  measure("cudaMemcpyAsync", [&](cudaStream_t s, int) {
    FP8KIT_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), buffer_bytes, cudaMemcpyDeviceToDevice, s));
  });
  return m;
}

// The stored copy ceiling of this device; measured now (about a second) and stored when missing.
double stored_copy_ceiling(const cuda::DeviceInfo& device, cudaStream_t stream) {
  const auto file = ceilings_path(jit::global_options().cache_dir);
  std::optional<DeviceCeilings> stored = load_ceilings(file, device.uuid);
  if (stored && stored->copy_gbps > 0) {
    fmt::print("copy bandwidth {:.0f} GB/s (measured {}, {})\n", stored->copy_gbps, stored->measured_utc, file.string());
    return stored->copy_gbps;
  }
  std::fflush(stdout);
  const CopyMeasurement m = measure_copy_bandwidth(stream);
  DeviceCeilings c = stored.value_or(DeviceCeilings{});
  c.device_name = device.name;
  c.device_uuid = device.uuid;
  c.measured_utc = iso8601_utc_now();
  c.git_revision = std::string(git_revision());
  c.copy_gbps = m.gbps;
  store_ceilings(file, c);
  fmt::print("copy bandwidth {:.0f} GB/s ({}), measured now and stored in {} (`fp8kit info --measure` refines it)\n",
             m.gbps, m.best, file.string());
  return m.gbps;
}

}  // namespace fp8kit::bench
