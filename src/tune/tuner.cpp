#include "tune/tuner.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/table.hpp"
#include "tune/tune_item.hpp"

namespace fp8kit::tune {

std::string_view status_name(TuneItemOutcome::Status s) {
  switch (s) {
    case TuneItemOutcome::Status::kNotStarted: return "not started";
    case TuneItemOutcome::Status::kTuned: return "tuned";
    case TuneItemOutcome::Status::kAlreadyTuned: return "already tuned";
    case TuneItemOutcome::Status::kStopped: return "stopped";
    case TuneItemOutcome::Status::kFailed: return "FAILED";
  }
  return "?";
}

bool TuneReport::complete() const {
  return std::all_of(items.begin(), items.end(), [](const TuneItemOutcome& o) {
    return o.status == TuneItemOutcome::Status::kTuned || o.status == TuneItemOutcome::Status::kAlreadyTuned;
  });
}

double TuneReport::worker_seconds() const {
  double sum = 0;
  for (const TuneItemOutcome& o : items) sum += o.seconds;
  return sum;
}

namespace {

// One device kind's share of the plan: every item is tuned once per kind (one file set each), one
// batch size at a time by whichever of that kind's workers is free. Made when the kind's first
// worker says hello.
struct DeviceQueue {
  std::vector<std::unique_ptr<ItemTune>> items;  // in plan order
  std::vector<TuneUnit> units;                   // longest first
  std::size_t next = 0;
};

// The queue of `device`'s kind (made with its first worker), or null when --device-name leaves the
// kind out (named in `skipped`). Called under the run's lock.
DeviceQueue* join_queue(std::map<std::string, DeviceQueue>& queues, std::vector<std::string>& skipped,
                        const TuneOptions& options, const std::string& device) {
  if (options.device_name && device != *options.device_name) {
    skipped.push_back(device);
    return nullptr;
  }
  auto [it, made] = queues.try_emplace(device);
  if (made) {
    for (const TuneWorkItem& item : options.items) {
      it->second.items.push_back(std::make_unique<ItemTune>(item, options, device));
    }
    it->second.units = tune_units_longest_first(options.items);
  }
  return &it->second;
}

// By tune_search_cost, not by count: the longest units go first.
std::string eta_text(double elapsed_s, double done_cost, double total_cost) {
  if (done_cost <= 0 || done_cost >= total_cost || elapsed_s < 1) return "";
  const double left = elapsed_s / done_cost * (total_cost - done_cost);
  return left >= 90 ? fmt::format(", ETA {:.0f} min", left / 60) : fmt::format(", ETA {:.0f} s", left);
}

}  // namespace

std::vector<TuneUnit> tune_units_longest_first(const std::vector<TuneWorkItem>& items) {
  std::vector<TuneUnit> units;
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t b = 0; b < items[i].batch_sizes.size(); ++b) units.emplace_back(i, b);
  }
  const auto work = [&](const TuneUnit& u) {
    return tune_search_cost(items[u.first], items[u.first].batch_sizes[u.second]);
  };
  std::stable_sort(units.begin(), units.end(), [&](const auto& a, const auto& b) { return work(a) > work(b); });
  return units;
}

TuneReport run_tune(const TuneOptions& options) {
  if (options.workers.empty()) throw_invalid_argument("tune: no workers (no GPU selected)");
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.time_budget_s) {
    deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(*options.time_budget_s));
  }
  std::filesystem::create_directories(options.save_path);
  std::size_t plan_batches = 0;
  double plan_cost = 0;
  for (const TuneWorkItem& item : options.items) {
    plan_batches += item.batch_sizes.size();
    for (std::int64_t m : item.batch_sizes) plan_cost += tune_search_cost(item, m);
  }

  std::mutex mutex;  // guards queues, skipped, done_batches, done_cost, log, first_error
  std::map<std::string, DeviceQueue> queues;
  std::vector<std::string> skipped;  // devices of workers left out by options.device_name
  std::size_t done_batches = 0;
  double done_cost = 0;
  std::exception_ptr first_error;
  std::atomic<bool> stop{false};
  std::atomic<int> restarts{0};
  const auto log = [&](const std::string& line) {
    std::lock_guard lock(mutex);
    if (options.log) options.log(line);
  };
  const auto batch_done = [&](double cost) {
    std::lock_guard lock(mutex);
    ++done_batches;
    done_cost += cost;
    const std::size_t kinds = std::max<std::size_t>(queues.size(), 1);
    const std::size_t total = plan_batches * kinds;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (options.log) {
      options.log(fmt::format("[{:3.0f}%] {}/{} (N, K, M) done{}",
                              100.0 * static_cast<double>(done_batches) / static_cast<double>(total), done_batches,
                              total, eta_text(elapsed, done_cost, plan_cost * static_cast<double>(kinds))));
    }
  };
  const auto queue_for = [&](const std::string& device) {
    std::lock_guard lock(mutex);
    return join_queue(queues, skipped, options, device);
  };

  const auto drive = [&](const WorkerCommand& command) {
    SupervisedWorker worker(command, options.timeouts);
    ItemContext context{options, worker, deadline, stop, log, batch_done};
    try {
      DeviceQueue* queue = queue_for(worker.hello().device);
      while (queue != nullptr && !stop.load()) {
        TuneUnit unit;
        {
          std::lock_guard lock(mutex);
          if (queue->next >= queue->units.size()) break;
          unit = queue->units[queue->next++];
        }
        queue->items[unit.first]->tune_batch(unit.second, context);
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!first_error) first_error = std::current_exception();
      stop.store(true);
    }
    restarts += worker.restarts();
  };

  std::vector<std::thread> threads;
  for (const WorkerCommand& command : options.workers) threads.emplace_back(drive, std::cref(command));
  for (std::thread& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
  if (queues.empty()) {
    throw_invalid_argument(fmt::format("--device-name: no worker's GPU is '{}' (they are: {})",
                                       options.device_name.value_or(""), fmt::join(skipped, ", ")));
  }

  TuneReport report;
  for (auto& [device, queue] : queues) {  // by device name, each in plan order
    for (const auto& item : queue.items) report.items.push_back(item->finish());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.worker_restarts = restarts.load();
  report.stopped_by_budget = stop.load() && !report.complete();
  return report;
}

std::string render_tune_summary(const TuneReport& report) {
  bench::Table table;
  table.add_column("N", bench::Align::kRight)
      .add_column("K", bench::Align::kRight)
      .add_column("out", bench::Align::kLeft)
      .add_column("device", bench::Align::kLeft)
      .add_column("M", bench::Align::kRight)
      .add_column("speedup (geomean)", bench::Align::kRight)
      .add_column("min", bench::Align::kRight)
      .add_column("max", bench::Align::kRight)
      .add_column("TFLOP/s @ max M", bench::Align::kRight)
      .add_column("tried", bench::Align::kRight)
      .add_column("failed", bench::Align::kRight)
      .add_column("status", bench::Align::kLeft);
  for (const TuneItemOutcome& o : report.items) {
    std::vector<std::string> row{std::to_string(o.item.n), std::to_string(o.item.k),
                                 std::string(dtype_name(o.item.out)), o.device.empty() ? "-" : o.device};
    if (o.result) {
      double log_sum = 0, lo = INFINITY, hi = 0;
      int counted = 0;
      for (const auto& [m, b] : o.result->batches) {
        if (b.default_tflops <= 0) continue;
        const double s = b.best_tflops / b.default_tflops;
        log_sum += std::log(s);
        lo = std::min(lo, s);
        hi = std::max(hi, s);
        ++counted;
      }
      const auto& last = o.result->batches.rbegin()->second;
      row.push_back(std::to_string(o.result->batches.size()));
      row.push_back(counted ? fmt::format("x{:.2f}", std::exp(log_sum / counted)) : "n/a");
      row.push_back(counted ? fmt::format("x{:.2f}", lo) : "n/a");
      row.push_back(counted ? fmt::format("x{:.2f}", hi) : "n/a");
      row.push_back(bench::format_number(last.best_tflops, 1));
      row.push_back(std::to_string(o.result->candidates_tried()));
      row.push_back(std::to_string(o.result->candidates_failed()));
    } else {
      for (int i = 0; i < 7; ++i) row.push_back("-");
    }
    row.push_back(o.message.empty() ? std::string(status_name(o.status))
                                    : fmt::format("{}: {}", status_name(o.status), o.message));
    table.add_row(std::move(row));
  }
  return table.render();
}

std::string render_device_totals(const TuneReport& report) {
  struct Totals {
    int tuned = 0, failed = 0, items = 0;
  };
  std::map<std::string, Totals> totals;
  for (const TuneItemOutcome& o : report.items) {
    Totals& t = totals[o.device.empty() ? "-" : o.device];
    t.tuned += o.status == TuneItemOutcome::Status::kTuned || o.status == TuneItemOutcome::Status::kAlreadyTuned;
    t.failed += o.status == TuneItemOutcome::Status::kFailed;
    ++t.items;
  }
  std::string out;
  for (const auto& [device, t] : totals) {
    out += fmt::format("# {}: {} of {} shapes tuned{}\n", device, t.tuned, t.items,
                       t.failed ? fmt::format(" ({} failed)", t.failed) : "");
  }
  return out;
}

}  // namespace fp8kit::tune
