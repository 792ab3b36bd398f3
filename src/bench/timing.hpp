// The timing harness of every benchmark (DESIGN.md §7): CUDA events around CUDA-graph replays of
// many calls, after warm-up; median with p20/p80 of the per-call time.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <string_view>

#include "core/stats.hpp"

namespace fp8kit::bench {

enum class TimingMode {
  kGraph,  // the same inputs every call: weights may stay in L2, as in the vLLM scripts
  kCold,   // calls rotate through input sets larger than 2x L2, so inputs come from HBM
};

std::string_view timing_mode_name(TimingMode mode);  // "graph", "cold"
TimingMode parse_timing_mode(std::string_view name);  // throws fp8kit::Error naming the value

struct TimingConfig {
  int warmup_replays = 3;
  int samples = 25;              // timed graph replays
  double target_replay_ms = 10;  // calls per replay are chosen so one replay takes about this
  int max_calls_per_replay = 2000;
};

// Enqueues one call on `stream` that works on input set `set` (0 <= set < sets). Must be
// capturable in a CUDA graph: no allocation, no synchronization.
using LaunchFn = std::function<void(cudaStream_t stream, int set)>;

// Per-call time in microseconds. Call i of a replay uses set i % sets.
Summary time_launches(const LaunchFn& launch, int sets, cudaStream_t stream, const TimingConfig& config = {});

// How many input sets of `bytes_per_set` make the rotation larger than twice the L2 cache, at most
// kMaxColdSets: a graph holds a call per set at least (a 2 KB GEMM, M = 1 N = 16 K = 128, takes
// 50K sets: seconds of capture, fine; a few bytes would take millions). Calls below
// 2 x L2 / kMaxColdSets bytes (about 1.6 KB on an H200) rotate through less and may hit L2.
inline constexpr std::size_t kMaxColdSets = std::size_t{1} << 16;
int cold_input_sets(std::size_t bytes_per_set, std::size_t l2_bytes);

}  // namespace fp8kit::bench
