#include "tune/ray_workers.hpp"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "fp8kit/types.hpp"

namespace fp8kit::tune {
namespace {

// /usr/bin/env finds the Python on PATH (posix_spawn takes a path) and execs it: the supervisor's
// pid is the bridge's own.
std::vector<std::string> bridge_prefix(const RayWorkers& ray, const char* command) {
  std::vector<std::string> argv{"/usr/bin/env", ray.python, "-m", "fp8kit.ray_tune", command, "--address", ray.address};
  if (!ray.resource.empty()) argv.insert(argv.end(), {"--resource", ray.resource});
  return argv;
}

// Ray's start-up on a busy cluster takes seconds; two minutes is an unreachable one.
constexpr std::chrono::seconds kSlotsTimeout{120};

int count_slots(const RayWorkers& ray) {
  WorkerProcess query({bridge_prefix(ray, "slots"), {}});
  std::string line;
  const auto status = query.read_line(line, kSlotsTimeout);
  query.wait_exit(std::chrono::milliseconds(5000));
  int slots = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), slots);
  if (status != WorkerProcess::ReadStatus::kLine || ec != std::errc() || end != line.data() + line.size()) {
    query.kill_and_reap();
    throw_environment(fmt::format("--ray {}: cannot count the cluster's slots with {} -m fp8kit.ray_tune slots ({}; "
                                  "its message is above)",
                                  ray.address, ray.python, query.exit_description()));
  }
  return slots;
}

// The bridge's command line around `worker` (its argv runs on the node; its env is the bridge's).
WorkerCommand ray_bridge_command(const RayWorkers& ray, const WorkerCommand& worker) {
  WorkerCommand c{bridge_prefix(ray, "bridge"), {}};
  c.argv.push_back("--");
  c.argv.insert(c.argv.end(), worker.argv.begin(), worker.argv.end());
  return c;
}

}  // namespace

std::vector<WorkerCommand> ray_worker_commands(const RayWorkers& ray, const WorkerCommand& worker) {
  const int slots = count_slots(ray);
  if (slots <= 0) {
    throw_environment(fmt::format("--ray {}: the cluster has no {} to tune on", ray.address,
                                  ray.resource.empty() ? std::string("GPU") : "'" + ray.resource + "'"));
  }
  return std::vector<WorkerCommand>(static_cast<std::size_t>(slots), ray_bridge_command(ray, worker));
}

}  // namespace fp8kit::tune
