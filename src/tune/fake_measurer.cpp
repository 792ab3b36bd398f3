#include "tune/fake_measurer.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "core/hash.hpp"
#include "core/gemm_cost_model.hpp"

namespace fp8kit::tune {
namespace {

bool matches(const std::vector<std::string>& subs, const std::string& name) {
  for (const std::string& s : subs) {
    if (name.find(s) != std::string::npos) return true;
  }
  return false;
}

int parse_int(std::string_view key, std::string_view value) {
  int v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || v < 0) {
    throw_invalid_argument(fmt::format("fake worker spec: {}={} is not a non-negative integer", key, value));
  }
  return v;
}

}  // namespace

FakeWorkerSpec parse_fake_worker_spec(std::string_view spec) {
  FakeWorkerSpec s;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (key == "crash") s.crash.emplace_back(value);
    else if (key == "hang") s.hang.emplace_back(value);
    else if (key == "fail") s.fail.emplace_back(value);
    else if (key == "sleep-ms") s.sleep_ms = parse_int(key, value);
    else if (key == "fast-first") s.fast_first = std::string(value);
    else if (key == "sm-count") s.sm_count = parse_int(key, value);
    else if (key == "device") s.device = std::string(value);
    else if (key == "no-gpu") s.no_gpu = true;
    else throw_invalid_argument(fmt::format("fake worker spec: unknown key '{}'", key));
  }
  return s;
}

double fake_time_us(const GemmShape& shape, const GemmConfig& config, int sm_count) {
  DeviceModel device;
  device.sm_count = sm_count;
  Hasher h;
  h.update(kernel_name(config));
  h.update_u64(static_cast<std::uint64_t>(config.group_size_m));
  const double jitter = static_cast<double>(std::stoull(h.hex().substr(0, 8), nullptr, 16)) / 4294967296.0;
  return predicted_us(config, shape, device) * (1.0 + 0.15 * jitter);
}

GemmConfig fake_default_config(const GemmShape& shape, const GemmConfig& base) {
  GemmConfig c = base;
  c.block_n = 128;
  c.block_k = kGemmBlockK;
  c.stages = 4;
  c.cluster_m = 1;
  c.cluster_n = 1;
  c.group_size_m = 8;
  c.block_m = shape.m <= 64 ? 64 : 128;
  c.consumer_warpgroups = shape.m <= 64 ? 1 : 2;
  return c;
}

std::string fake_device_name(const std::string& spec_device, const char* env_device, const char* visible) {
  if (env_device != nullptr && *env_device != '\0') return env_device;
  std::vector<std::string> names;
  for (std::string_view rest = spec_device; !rest.empty();) {
    const auto bar = rest.find('|');
    names.emplace_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
  }
  if (names.size() <= 1) return spec_device;
  const int index = visible != nullptr ? std::atoi(visible) : 0;  // the worker's first visible GPU
  return names[static_cast<std::size_t>(std::max(index, 0)) % names.size()];
}

WorkerHello FakeMeasurer::hello() {
  if (spec_.no_gpu) throw_environment("no CUDA device (fake worker)");
  WorkerHello h;
  h.device = fake_device_name(spec_.device, std::getenv("FP8KIT_FAKE_DEVICE"), std::getenv("CUDA_VISIBLE_DEVICES"));
  h.sm_count = spec_.sm_count;
  h.versions = {{"fake_worker", "1"}};
  return h;
}

std::map<std::string, std::string> FakeMeasurer::compile(const std::vector<GemmConfig>&) { return {}; }

GemmConfig FakeMeasurer::default_config(const GemmShape& shape, const GemmConfig& base) {
  return fake_default_config(shape, base);
}

double FakeMeasurer::measure_us(const GemmShape& shape, const GemmConfig& config, bool cold) {
  const std::string name = kernel_name(config);
  if (matches(spec_.crash, name)) std::raise(SIGSEGV);
  if (matches(spec_.hang, name)) {
    while (true) ::pause();
  }
  if (spec_.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(spec_.sleep_ms));
  if (matches(spec_.fail, name)) throw Error(ErrorKind::kCheckFailed, fmt::format("{}: wrong output (planted)", name));
  validate(config, shape);
  double us = fake_time_us(shape, config, spec_.sm_count) * (cold ? kFakeColdFactor : 1.0);
  if (name == spec_.fast_first && !fast_first_done_) {
    fast_first_done_ = true;
    us *= kFakeFastFirstFactor;
  }
  return us;
}

}  // namespace fp8kit::tune
