// Tuning one work item on one supervised worker (tuner.hpp drives many of these).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "tune/supervised_worker.hpp"
#include "tune/tune_options.hpp"

namespace fp8kit::tune {

struct ItemContext {
  const TuneOptions& options;
  SupervisedWorker& worker;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::atomic<bool>& stop;                                  // set by any worker that ran out of time
  std::function<void(const std::string&)> log;              // thread-safe
  std::function<void()> batch_done;                         // one (item, M) finished, for progress
};

TuneItemOutcome tune_item(const TuneWorkItem& item, ItemContext& context);

}  // namespace fp8kit::tune
