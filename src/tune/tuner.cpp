#include "tune/tuner.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

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

TuneReport run_tune(const TuneOptions& options) {
  if (options.workers.empty()) throw_invalid_argument("tune: no workers (no GPU selected)");
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.time_budget_s) {
    deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(*options.time_budget_s));
  }
  std::filesystem::create_directories(options.save_path);

  TuneReport report;
  for (const TuneWorkItem& item : options.items) {
    TuneItemOutcome outcome;
    outcome.item = item;
    report.items.push_back(std::move(outcome));
  }
  std::size_t total_batches = 0;
  for (const TuneWorkItem& item : options.items) total_batches += item.batch_sizes.size();

  std::mutex mutex;  // guards next_item, done_batches, log, first_error
  std::size_t next_item = 0, done_batches = 0;
  std::exception_ptr first_error;
  std::atomic<bool> stop{false};
  std::atomic<int> restarts{0};
  const auto log = [&](const std::string& line) {
    std::lock_guard lock(mutex);
    if (options.log) options.log(line);
  };

  const auto drive = [&](const WorkerCommand& command) {
    SupervisedWorker worker(command, options.timeouts);
    ItemContext context{options, worker, deadline, stop, log, [&] {
                          std::lock_guard lock(mutex);
                          ++done_batches;
                          if (options.log) {
                            options.log(fmt::format("[{:3.0f}%] {}/{} (N, K, M) done", 100.0 * static_cast<double>(done_batches) / static_cast<double>(total_batches),
                                                    done_batches, total_batches));
                          }
                        }};
    try {
      while (!stop.load()) {
        std::size_t index;
        {
          std::lock_guard lock(mutex);
          if (next_item >= options.items.size()) break;
          index = next_item++;
        }
        TuneItemOutcome outcome = tune_item(options.items[index], context);
        std::lock_guard lock(mutex);
        report.items[index] = std::move(outcome);
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

}  // namespace fp8kit::tune
