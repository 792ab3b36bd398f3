// `fp8kit tune`: work items spread over one supervised worker per GPU (each pulls the next item
// of its device kind when it finishes one: a mixed set of GPUs tunes every item once per kind),
// each item searched per batch size, journaled as it goes and written once, atomically, when every
// batch size has its best config.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tune/tune_options.hpp"

namespace fp8kit::tune {

std::string_view status_name(TuneItemOutcome::Status status);

struct TuneReport {
  std::vector<TuneItemOutcome> items;  // by device name, each in plan order
  bool stopped_by_budget = false;
  double seconds = 0;
  int worker_restarts = 0;
  bool complete() const;  // every item tuned now or before
};

// Throws fp8kit::Error when a worker cannot start (e.g. kEnvironment: no GPU) or a file cannot be
// written; candidate failures are never errors.
TuneReport run_tune(const TuneOptions& options);

// One row per work item and device kind: N, K, out, device, batch sizes, geometric-mean / min /
// max speedup over the default heuristic, best TFLOP/s at the largest M, status.
std::string render_tune_summary(const TuneReport& report);

// One line per device kind: "# DEVICE: T of I shapes tuned (F failed)".
std::string render_device_totals(const TuneReport& report);

}  // namespace fp8kit::tune
