#include "tune/tune_item.hpp"

#include <algorithm>
#include <deque>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/result.hpp"

namespace fp8kit::tune {
namespace {

using Clock = std::chrono::steady_clock;

double tflops(const GemmShape& s, double us) {
  return us > 0 ? 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k) / (us * 1e6) : 0.0;
}

// Every config of the declared space valid for `shape`, each followed by its split-K variants: the
// cost model does not price split-K, so a variant ranks beside its unsplit config and the climb
// reaches it through the split_k knob.
TunedScales scales(const TuneOptions& options) { return {options.space.mode_a, options.space.mode_b}; }

std::vector<GemmConfig> candidates_for(const GemmSearchSpace& space, const GemmShape& shape, int sm_count) {
  std::vector<GemmConfig> candidates;
  for (const GemmConfig& c : gemm_search_space(space)) {
    if (!is_valid(c, shape)) continue;
    candidates.push_back(c);
    for (const GemmConfig& v : split_k_variants(c, shape, sm_count)) candidates.push_back(v);
  }
  return candidates;
}

}  // namespace

struct ItemTune::BatchRun {
  ItemContext& ctx;
  std::int64_t m;
  bool stopped = false;
  int measured = 0;
};

ItemTune::ItemTune(const TuneWorkItem& item, const TuneOptions& options, std::string device)
    : item_(item),
      options_(options),
      file_(options.save_path / tuned_config_file_name(item.n, item.k, item.out, device, scales(options))),
      journal_path_(journal_path(options.save_path, item.n, item.k, item.out, device, scales(options))),
      remaining_(item.batch_sizes.size()) {
  outcome_.item = item;
  outcome_.device = std::move(device);
}

void ItemTune::tune_batch(std::size_t index, ItemContext& ctx) {
  {
    std::lock_guard lock(mutex_);
    if (!begun_ && !begin(ctx)) closed_ = true;
    if (closed_) {  // already tuned by an earlier run
      ctx.batch_done(tune_search_cost(item_, item_.batch_sizes.at(index)));
      return;
    }
  }
  const auto t0 = Clock::now();
  BatchRun run{ctx, item_.batch_sizes.at(index)};
  const std::optional<TunedBatch> batch = search(run);
  std::lock_guard lock(mutex_);
  seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
  outcome_.measured += run.measured;
  if (run.stopped) return;  // the item stays unfinished: finish() says so
  if (batch) batches_.emplace(run.m, *batch);
  else failed_ms_.push_back(run.m);
  ctx.batch_done(tune_search_cost(item_, run.m));
  if (--remaining_ == 0) complete(ctx.worker.hello());
}

bool ItemTune::begin(ItemContext& ctx) {
  begun_ = true;
  if (options_.resume && already_tuned(ctx)) return false;
  if (options_.resume) {
    Journal j = read_journal(journal_path_);
    if (j.dropped_truncated_tail) rewrite_journal(journal_path_, j.entries);
    journal_ = std::move(j.entries);
  } else {
    std::filesystem::remove(journal_path_);
  }
  for (const JournalEntry& e : journal_) {
    if (e.kind == JournalEntry::Kind::kSession) earlier_seconds_ += e.seconds;
  }
  return true;
}

bool ItemTune::already_tuned(ItemContext& ctx) {
  if (!std::filesystem::exists(file_)) return false;
  try {
    TunedConfigFile existing = read_tuned_config_file(file_);
    const bool complete = std::all_of(item_.batch_sizes.begin(), item_.batch_sizes.end(),
                                      [&](std::int64_t m) { return existing.batches.contains(m); });
    if (!complete) {
      ctx.log(fmt::format("{}: lacks some batch sizes; tuning them", file_.filename().string()));
      return false;
    }
    outcome_.status = TuneItemOutcome::Status::kAlreadyTuned;
    outcome_.file = file_;
    outcome_.result = std::move(existing);
    return true;
  } catch (const Error& e) {
    ctx.log(fmt::format("re-tuning: {}", e.what()));
    return false;
  }
}

void ItemTune::complete(const WorkerHello& hello) {
  closed_ = true;
  journal_session();
  if (!failed_ms_.empty()) {
    std::sort(failed_ms_.begin(), failed_ms_.end());
    outcome_.status = TuneItemOutcome::Status::kFailed;
    outcome_.message = fmt::format("every candidate failed at M = {} (nothing written)", fmt::join(failed_ms_, ", "));
    return;
  }
  TunedConfigFile result;
  result.n = item_.n;
  result.k = item_.k;
  result.out = item_.out;
  result.mode_a = options_.space.mode_a;
  result.mode_b = options_.space.mode_b;
  result.device = outcome_.device;
  result.batches = std::move(batches_);
  // Every worker of a device kind runs the same build, so any of them speaks for the versions.
  result.versions = hello.versions;
  for (const auto& [k, v] : options_.versions) result.versions[k] = v;
  result.date_utc = iso8601_utc_now();
  result.time_spent_s = earlier_seconds_ + seconds_;
  outcome_.file = write_tuned_config_file(options_.save_path, result);
  outcome_.result = std::move(result);
  outcome_.status = TuneItemOutcome::Status::kTuned;
}

TuneItemOutcome ItemTune::finish() {
  std::lock_guard lock(mutex_);
  outcome_.seconds = seconds_;
  if (begun_ && !closed_) {
    journal_session();
    outcome_.status = TuneItemOutcome::Status::kStopped;
  }
  return outcome_;
}

void ItemTune::journal_session() {
  JournalEntry session;
  session.kind = JournalEntry::Kind::kSession;
  session.seconds = seconds_;
  append_journal(journal_path_, session);
}

// Stops (for good) when a request expected to take `expected` would not end before the deadline.
bool ItemTune::out_of_time(BatchRun& run, std::chrono::duration<double> expected) {
  if (run.ctx.stop.load()) run.stopped = true;
  if (!run.stopped && run.ctx.deadline && Clock::now() + expected >= *run.ctx.deadline) {
    run.stopped = true;
    run.ctx.stop.store(true);
  }
  return run.stopped;
}

void ItemTune::write_journal(std::int64_t m, JournalEntry::Kind kind, const GemmConfig& config,
                             std::optional<double> us, const std::string& error) {
  JournalEntry e;
  e.kind = kind;
  e.m = m;
  e.config = config;
  e.us = us;
  e.error = us ? std::string() : error;
  e.cold = timed_cold(m);
  std::lock_guard lock(mutex_);
  append_journal(journal_path_, e);
}

// One measurement through the worker; nullopt (with `error`) when the candidate failed.
std::optional<double> ItemTune::measure(BatchRun& run, const MeasureRequest& request, GemmConfig& measured,
                                        std::string& error) {
  const auto t0 = Clock::now();
  const auto outcome = run.ctx.worker.call(to_json(request), run.ctx.worker.timeouts().measure);
  run.ctx.longest_measure = std::max(run.ctx.longest_measure, std::chrono::duration<double>(Clock::now() - t0));
  ++run.measured;
  if (!outcome.reply) {
    error = outcome.failure;
    return std::nullopt;
  }
  try {
    const MeasureReply reply = measure_reply_from_json(*outcome.reply);
    if (reply.config) measured = *reply.config;
    if (reply.ok) return reply.us;
    error = reply.error;
  } catch (const Error& e) {
    error = e.what();
  }
  return std::nullopt;
}

// Compiles a batch in parallel on the worker; returns the configs whose compile failed, by name.
std::map<std::string, std::string> ItemTune::compile(BatchRun& run, const std::vector<GemmConfig>& configs) {
  std::map<std::string, std::string> failed;
  if (configs.size() < 2) return failed;  // measuring compiles a single one anyway
  const auto t0 = Clock::now();
  const auto outcome = run.ctx.worker.call(compile_request(configs), run.ctx.worker.timeouts().compile);
  run.ctx.longest_compile = std::max(run.ctx.longest_compile, std::chrono::duration<double>(Clock::now() - t0));
  if (!outcome.reply) {  // a compile that kills the worker: measure each on its own to find it
    run.ctx.log(fmt::format("compile batch of {} kernels: {}", configs.size(), outcome.failure));
    return failed;
  }
  failed = compile_reply_failures(*outcome.reply);
  failed.erase("*");  // a batch that failed as a whole: each is measured (and compiled) on its own
  return failed;
}

// What earlier runs measured at one M (same timing regime): handed to the search when it asks for
// them, not up front, so an interrupted batch goes on as it would have, and a resumed tune takes the
// same path (and makes the same choice) as one that was never stopped.
struct ItemTune::Replay {
  std::optional<GemmConfig> default_config;
  std::optional<double> default_us;
  std::map<GemmConfig, std::optional<double>> candidates;
  std::map<GemmConfig, std::deque<std::optional<double>>> rechecks;  // in the order they were measured

  Replay(const std::vector<JournalEntry>& journal, std::int64_t m, bool cold) {
    for (const JournalEntry& e : journal) {
      if (e.m != m || e.cold != cold) continue;  // a resume with another --cold-max-m measures again
      if (e.kind == JournalEntry::Kind::kDefault) {
        default_config = e.config;
        default_us = e.us;
      }
      if (e.kind == JournalEntry::Kind::kCandidate) candidates[e.config] = e.us;
      if (e.kind == JournalEntry::Kind::kRecheck) rechecks[e.config].push_back(e.us);
    }
  }
};

// A measurement of `c`, journaled as `kind` (a failure also logged); nullopt: failed, or out of time
// (run.stopped).
std::optional<double> ItemTune::measure_journaled(BatchRun& run, const GemmShape& shape, bool cold,
                                                  const GemmConfig& c, JournalEntry::Kind kind) {
  if (out_of_time(run, run.ctx.longest_measure)) return std::nullopt;
  GemmConfig measured = c;
  std::string error;
  const std::optional<double> us = measure(run, {shape, c, false, cold}, measured, error);
  if (us) write_journal(shape.m, kind, c, us, "");
  else journal_failure(run, shape.m, kind, c, error);
  return us;
}

void ItemTune::journal_failure(BatchRun& run, std::int64_t m, JournalEntry::Kind kind, const GemmConfig& c,
                               const std::string& error) {
  run.ctx.log(fmt::format("  N={} K={} M={}: {} FAILED: {}", item_.n, item_.k, m, kernel_name(c), error));
  write_journal(m, kind, c, std::nullopt, error);
}

// The config the library runs today for this shape (options_.incumbents), measured before the climb
// and journaled as a candidate: a climb can end on a slower local best (on 2026-12-05 the one at
// 576 x 7168 M = 128 spent its 40 measurements on m64n16 variants and never reached the shipped
// split-K config, which ran 1.48x faster), and a re-tune must not ship such a step back.
std::optional<double> ItemTune::measure_incumbent(BatchRun& run, CandidateSearch& search, const GemmShape& shape,
                                                  bool cold, Replay& replay) {
  if (!options_.incumbents) return std::nullopt;
  const std::optional<GemmConfig> c = options_.incumbents->find(shape, item_.out, outcome_.device, scales(options_));
  if (!c) return std::nullopt;
  std::optional<double> us;
  if (const auto j = replay.candidates.find(*c); j != replay.candidates.end()) us = j->second;
  else if (!search.recorded(*c)) us = measure_journaled(run, shape, cold, *c, JournalEntry::Kind::kCandidate);
  else return std::nullopt;  // the default config: measured already
  search.record(*c, us);
  return us;
}

// The climb: batches of candidates compiled in parallel on the worker, then measured one by one.
void ItemTune::climb(BatchRun& run, CandidateSearch& search, const GemmShape& shape, bool cold, Replay& replay) {
  while (true) {
    const std::vector<GemmConfig> batch = search.next_batch();
    if (batch.empty()) return;
    std::vector<GemmConfig> to_measure;
    for (const GemmConfig& c : batch) {
      if (const auto j = replay.candidates.find(c); j != replay.candidates.end()) search.record(c, j->second);
      else to_measure.push_back(c);
    }
    if (to_measure.empty()) continue;
    if (out_of_time(run, run.ctx.longest_compile)) return;
    const auto compile_failures = compile(run, to_measure);
    for (const GemmConfig& c : to_measure) {
      if (const auto f = compile_failures.find(kernel_name(c)); f != compile_failures.end()) {
        journal_failure(run, shape.m, JournalEntry::Kind::kCandidate, c, "compile: " + f->second);
        search.record(c, std::nullopt);
        continue;
      }
      const std::optional<double> us = measure_journaled(run, shape, cold, c, JournalEntry::Kind::kCandidate);
      if (run.stopped) return;
      search.record(c, us);
    }
  }
}

// SearchOptions::recheck_*: the leaders within the window (the best alone, if it is far ahead: an
// outlier would be) are measured again, round-robin, and recorded with their median (a failure
// excludes one). A leader that falls back makes room for the next, rechecked in turn (3 passes at most).
void ItemTune::recheck(BatchRun& run, CandidateSearch& search, const GemmShape& shape, bool cold, Replay& replay) {
  const SearchOptions& opt = options_.search;
  std::map<GemmConfig, std::vector<double>> times;
  for (int pass = 0; pass < 3; ++pass) {
    const std::vector<MeasuredConfig> fastest = search.fastest(opt.recheck_leaders);
    std::vector<GemmConfig> todo;
    for (const MeasuredConfig& f : fastest) {
      if (f.us > fastest.front().us * (1 + opt.recheck_window)) break;
      if (times.emplace(f.config, std::vector<double>{f.us}).second) todo.push_back(f.config);
    }
    if (todo.empty()) return;
    for (int round = 0; round < opt.recheck_rounds; ++round) {
      for (auto c = todo.begin(); c != todo.end();) {
        std::optional<double> us;
        if (auto& earlier = replay.rechecks[*c]; !earlier.empty()) {  // a resumed run: as journaled
          us = earlier.front();
          earlier.pop_front();
        } else {
          us = measure_journaled(run, shape, cold, *c, JournalEntry::Kind::kRecheck);
          if (run.stopped) return;
        }
        if (!us) {
          search.record(*c, std::nullopt);
          c = todo.erase(c);
          continue;
        }
        times[*c].push_back(*us);
        ++c;
      }
    }
    for (const GemmConfig& c : todo) {
      std::vector<double>& t = times[c];
      std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
      search.record(c, t[t.size() / 2]);
    }
  }
}

std::optional<TunedBatch> ItemTune::search(BatchRun& run) {
  const GemmShape shape{run.m, item_.n, item_.k};
  const bool cold = timed_cold(run.m);
  const int sm_count = run.ctx.worker.hello().sm_count;
  GemmSearchSpace space = options_.space;
  space.out = item_.out;
  DeviceModel device;
  device.sm_count = sm_count;
  CandidateSearch search(candidates_for(space, shape, sm_count), shape, device, options_.search);
  Replay replay(journal_, run.m, cold);
  if (replay.default_config) {
    search.record(*replay.default_config, replay.default_us);
  } else {
    if (out_of_time(run, run.ctx.longest_measure)) return std::nullopt;
    GemmConfig measured{.mode_a = space.mode_a, .mode_b = space.mode_b, .out = item_.out};
    std::string error;
    replay.default_us = measure(run, {shape, measured, true, cold}, measured, error);
    replay.default_config = measured;
    write_journal(run.m, JournalEntry::Kind::kDefault, measured, replay.default_us, error);
    search.record(measured, replay.default_us);
  }
  const std::optional<double> incumbent_us = measure_incumbent(run, search, shape, cold, replay);
  if (run.stopped) return std::nullopt;
  climb(run, search, shape, cold, replay);
  for (const auto& [config, us] : replay.candidates) search.record(config, us);  // a path that drifted: keep all it measured
  if (!run.stopped) recheck(run, search, shape, cold, replay);
  if (run.stopped) return std::nullopt;
  const auto best = search.best();
  if (!best) {
    run.ctx.log(fmt::format("N={} K={} M={}: every candidate FAILED", item_.n, item_.k, run.m));
    return std::nullopt;
  }
  TunedBatch b;
  b.config = best->config;
  b.best_tflops = tflops(shape, best->us);
  b.default_tflops = replay.default_us ? tflops(shape, *replay.default_us) : 0.0;
  b.default_kernel_name = kernel_name(*replay.default_config);
  b.candidates_tried = search.measured();
  b.candidates_failed = search.failed();
  const std::string before = incumbent_us ? fmt::format(", before {:.1f}", tflops(shape, *incumbent_us)) : "";
  run.ctx.log(fmt::format("{}: N={} K={} M={}: {:.1f} TFLOP/s {} (default {:.1f}, x{:.2f}{}), {} tried, {} failed",
                          outcome_.device, item_.n, item_.k, run.m, b.best_tflops, kernel_name(b.config),
                          b.default_tflops, b.default_tflops > 0 ? b.best_tflops / b.default_tflops : 0.0, before,
                          b.candidates_tried, b.candidates_failed));
  return b;
}

}  // namespace fp8kit::tune
