// The tuner's vocabulary, shared by the driver (tuner.hpp) and the per-item search (tune_item.hpp):
// what a run is asked to do, and how each work item ended.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/gemm_config.hpp"
#include "core/tuned_config_file.hpp"
#include "core/tuned_configs.hpp"
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
  std::optional<std::string> device_name;  // tune only on workers whose GPU has this name
  WorkerTimeouts timeouts;
  SearchOptions search;
  GemmSearchSpace space;                   // the declared space; out is set per item
  std::int64_t cold_max_m = 0;             // batch sizes up to this M are timed cold (MeasureRequest::cold)
  // The tuned configs the library runs today (`--config-dir`; null: none): each search measures
  // the one for its (N, K, M) before climbing, so a re-tune never ships a slower config.
  std::shared_ptr<TunedConfigLookup> incumbents;
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
  double seconds = 0;                     // worker time its searches took in this invocation
};

}  // namespace fp8kit::tune
