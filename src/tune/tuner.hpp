// `fp8kit tune`: work items spread over one supervised worker per GPU (each pulls the next item
// when it finishes one), each item searched per batch size, journaled as it goes and written once,
// atomically, when every batch size has its best config.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/gemm_config.hpp"
#include "core/tuned_config_file.hpp"
#include "tune/candidate_search.hpp"
#include "tune/supervised_worker.hpp"
#include "tune/tune_plan.hpp"

namespace fp8kit::tune {

struct TuneOptions {
  std::vector<TuneWorkItem> items;
  std::filesystem::path save_path;
  bool resume = false;
  std::optional<double> time_budget_s;     // stop issuing requests that would not end before it
  std::vector<WorkerCommand> workers;      // one per GPU
  WorkerTimeouts timeouts;
  SearchOptions search;
  GemmSearchSpace space;                   // the declared space; out is set per item
  std::map<std::string, std::string> versions;  // the tuner's own (fp8kit, git), beside the worker's
  std::function<void(const std::string&)> log;  // progress lines (called under a lock)
};

struct TuneItemOutcome {
  enum class Status { kNotStarted, kTuned, kAlreadyTuned, kStopped, kFailed };
  TuneWorkItem item;
  Status status = Status::kNotStarted;
  std::string device;
  std::filesystem::path file;             // kTuned, kAlreadyTuned
  std::optional<TunedConfigFile> result;  // kTuned, kAlreadyTuned
  std::string message;                    // kFailed: why
  int measured = 0;                       // measurements made in this invocation
};
std::string_view status_name(TuneItemOutcome::Status status);

struct TuneReport {
  std::vector<TuneItemOutcome> items;  // in plan order
  bool stopped_by_budget = false;
  double seconds = 0;
  int worker_restarts = 0;
  bool complete() const;  // every item tuned now or before
};

// Throws fp8kit::Error when a worker cannot start (e.g. kEnvironment: no GPU) or a file cannot be
// written; candidate failures are never errors.
TuneReport run_tune(const TuneOptions& options);

// One row per work item: N, K, out, device, batch sizes, geometric-mean / min / max speedup over
// the default heuristic, best TFLOP/s at the largest M, status.
std::string render_tune_summary(const TuneReport& report);

}  // namespace fp8kit::tune
