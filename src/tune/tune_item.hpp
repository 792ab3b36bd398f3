// One work item ((N, K, out) over its batch sizes) on one device kind, shared by the workers that
// tune it: each takes one batch size at a time (tuner.hpp hands them out), so a shape's batch sizes
// spread over every GPU. The item reads its journal once, keeps each batch size's best config as it
// ends, and writes its file once, atomically, when its last batch size ends, on whichever worker.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tune/supervised_worker.hpp"
#include "tune/tune_journal.hpp"
#include "tune/tune_options.hpp"

namespace fp8kit::tune {

struct ItemContext {  // one per worker thread
  const TuneOptions& options;
  SupervisedWorker& worker;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::atomic<bool>& stop;                      // set by any worker that ran out of time
  std::function<void(const std::string&)> log;  // thread-safe
  std::function<void(double)> batch_done;       // one (item, M) of this tune_search_cost finished
  // This worker's slowest requests so far: a request is issued only if one as long ends in time.
  std::chrono::duration<double> longest_measure{0}, longest_compile{0};
};

class ItemTune {
 public:
  ItemTune(const TuneWorkItem& item, const TuneOptions& options, std::string device);

  // Tunes batch size number `index` of the item on ctx's worker. Thread-safe; each index once.
  void tune_batch(std::size_t index, ItemContext& ctx);

  // How the item ended, once no worker runs it any more. An item begun and not finished (a time
  // budget stopped it) journals the time it spent, for the resumed run's total.
  TuneItemOutcome finish();

 private:
  struct BatchRun;  // one batch size on one worker
  struct Replay;    // what earlier runs measured at its M

  bool begin(ItemContext& ctx);  // first batch, under mutex_: resume check and journal; false if already tuned
  bool already_tuned(ItemContext& ctx);
  void complete(const WorkerHello& hello);  // last batch, under mutex_: the file (or the failure)
  std::optional<TunedBatch> search(BatchRun& run);
  std::optional<double> measure_incumbent(BatchRun& run, CandidateSearch& search, const GemmShape& shape, bool cold,
                                          Replay& replay);
  void climb(BatchRun& run, CandidateSearch& search, const GemmShape& shape, bool cold, Replay& replay);
  void recheck(BatchRun& run, CandidateSearch& search, const GemmShape& shape, bool cold, Replay& replay);
  std::optional<double> measure_journaled(BatchRun& run, const GemmShape& shape, bool cold, const GemmConfig& c,
                                          JournalEntry::Kind kind);
  void journal_failure(BatchRun& run, std::int64_t m, JournalEntry::Kind kind, const GemmConfig& c,
                       const std::string& error);
  std::optional<double> measure(BatchRun& run, const MeasureRequest& request, GemmConfig& measured,
                                std::string& error);
  std::map<std::string, std::string> compile(BatchRun& run, const std::vector<GemmConfig>& configs);
  bool out_of_time(BatchRun& run, std::chrono::duration<double> expected);
  bool timed_cold(std::int64_t m) const { return m <= options_.cold_max_m; }
  void write_journal(std::int64_t m, JournalEntry::Kind kind, const GemmConfig& config, std::optional<double> us,
                     const std::string& error);
  void journal_session();

  const TuneWorkItem item_;
  const TuneOptions& options_;
  const std::filesystem::path file_, journal_path_;
  std::mutex mutex_;  // everything below; the journal file
  bool begun_ = false, closed_ = false;  // closed: written, failed, or found already tuned
  std::vector<JournalEntry> journal_;    // earlier runs' entries; read-only once begun
  double earlier_seconds_ = 0, seconds_ = 0;  // worker time spent on the item: before this run, in it
  std::size_t remaining_;
  std::map<std::int64_t, TunedBatch> batches_;
  std::vector<std::int64_t> failed_ms_;
  TuneItemOutcome outcome_;
};

}  // namespace fp8kit::tune
