#include "bench/timing.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "cuda/resources.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

cuda::Graph capture_calls(const LaunchFn& launch, int calls, int sets, cudaStream_t stream) {
  return cuda::Graph::capture(stream, [&] {
    for (int i = 0; i < calls; ++i) launch(stream, i % sets);
  });
}

// Milliseconds of one replay of `graph`, measured with events.
double time_replay(const cuda::Graph& graph, cudaStream_t stream, cuda::Event& start, cuda::Event& stop) {
  start.record(stream);
  graph.launch(stream);
  stop.record(stream);
  FP8KIT_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  return stop.elapsed_ms_since(start);
}

}  // namespace

std::string_view timing_mode_name(TimingMode mode) { return mode == TimingMode::kGraph ? "graph" : "cold"; }

TimingMode parse_timing_mode(std::string_view name) {
  if (name == "graph") return TimingMode::kGraph;
  if (name == "cold") return TimingMode::kCold;
  throw_invalid_argument(fmt::format("--timing: unknown mode '{}' (expected graph or cold)", name));
}

int cold_input_sets(std::size_t bytes_per_set, std::size_t l2_bytes) {
  if (bytes_per_set == 0) return 1;
  return static_cast<int>(std::min<std::size_t>(2 * l2_bytes / bytes_per_set + 1, kMaxColdSets));
}

Summary time_launches(const LaunchFn& launch, int sets, cudaStream_t stream, const TimingConfig& config) {
  if (sets < 1) throw_invalid_argument(fmt::format("time_launches: sets = {} must be at least 1", sets));
  cuda::Event start, stop;

  // One eager call loads modules and creates handles outside any timed region.
  launch(stream, 0);
  FP8KIT_CUDA_CHECK(cudaGetLastError());
  FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));

  // A short probe graph sizes the real one.
  const int probe_calls = std::max(sets, 8);
  const cuda::Graph probe = capture_calls(launch, probe_calls, sets, stream);
  probe.launch(stream);
  double probe_ms = time_replay(probe, stream, start, stop);
  probe_ms = std::min(probe_ms, time_replay(probe, stream, start, stop));
  const double per_call_ms = std::max(probe_ms / probe_calls, 1e-4);
  int calls = static_cast<int>(std::ceil(config.target_replay_ms / per_call_ms));
  calls = std::clamp(calls, 1, config.max_calls_per_replay);
  calls = std::max(sets, (calls + sets - 1) / sets * sets);  // whole rotations

  const cuda::Graph graph = capture_calls(launch, calls, sets, stream);
  for (int i = 0; i < config.warmup_replays; ++i) graph.launch(stream);
  FP8KIT_CUDA_CHECK(cudaStreamSynchronize(stream));

  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(config.samples));
  for (int i = 0; i < config.samples; ++i) {
    us.push_back(time_replay(graph, stream, start, stop) * 1000.0 / calls);
  }
  return summarize(std::move(us));
}

}  // namespace fp8kit::bench
