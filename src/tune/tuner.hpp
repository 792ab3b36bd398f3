// `fp8kit tune`: work items spread over one supervised worker per GPU, one (item, batch size) at a
// time, longest first (each worker pulls the next of its device kind when it finishes one: a mixed
// set of GPUs tunes every item once per kind); each item is journaled as it goes and written once,
// atomically, when every batch size has its best config.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tune/tune_options.hpp"

namespace fp8kit::tune {

std::string_view status_name(TuneItemOutcome::Status status);

struct TuneReport {
  std::vector<TuneItemOutcome> items;  // by device name, each in plan order
  bool stopped_by_budget = false;
  double seconds = 0;  // wall time
  int worker_restarts = 0;
  bool complete() const;  // every item tuned now or before
  double worker_seconds() const;  // the items' search time, summed: seconds x workers kept busy
};

// One batch size of one work item: (index into the items, index into its batch_sizes).
using TuneUnit = std::pair<std::size_t, std::size_t>;

// Every unit once, longest first (by tune_search_cost), so that the last units to start are short
// and the workers end together. With whole items as units, 2 GPUs ran a 4-shape plan in 60 s
// against 69 s on one: bound by the largest item (36 s).
std::vector<TuneUnit> tune_units_longest_first(const std::vector<TuneWorkItem>& items);

// Throws fp8kit::Error when a worker cannot start (e.g. kEnvironment: no GPU) or a file cannot be
// written; candidate failures are never errors.
TuneReport run_tune(const TuneOptions& options);

// One row per work item and device kind: N, K, out, device, batch sizes, geometric-mean / min /
// max speedup over the default heuristic, best TFLOP/s at the largest M, status.
std::string render_tune_summary(const TuneReport& report);

// One line per device kind: "# DEVICE: T of I shapes tuned (F failed)".
std::string render_device_totals(const TuneReport& report);

}  // namespace fp8kit::tune
