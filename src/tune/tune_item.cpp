#include "tune/tune_item.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/result.hpp"
#include "tune/tune_journal.hpp"

namespace fp8kit::tune {
namespace {

using Clock = std::chrono::steady_clock;

double tflops(const GemmShape& s, double us) {
  return us > 0 ? 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k) / (us * 1e6) : 0.0;
}

class ItemTuner {
 public:
  ItemTuner(const TuneWorkItem& item, ItemContext& ctx) : item_(item), ctx_(ctx), started_(Clock::now()) {}

  TuneItemOutcome run() {
    outcome_.item = item_;
    const WorkerHello& hello = ctx_.worker.hello();
    outcome_.device = hello.device;
    const auto& opt = ctx_.options;
    const std::filesystem::path file = opt.save_path / tuned_config_file_name(item_.n, item_.k, item_.out, hello.device);
    journal_path_ = journal_path(opt.save_path, item_.n, item_.k, item_.out, hello.device);
    if (opt.resume && already_tuned(file)) return outcome_;

    std::vector<JournalEntry> journal;
    if (opt.resume) {
      Journal j = read_journal(journal_path_);
      if (j.dropped_truncated_tail) rewrite_journal(journal_path_, j.entries);
      journal = std::move(j.entries);
    } else {
      std::filesystem::remove(journal_path_);
    }
    for (const JournalEntry& e : journal) {
      if (e.kind == JournalEntry::Kind::kSession) earlier_seconds_ += e.seconds;
    }

    TunedConfigFile result;
    result.n = item_.n;
    result.k = item_.k;
    result.out = item_.out;
    result.mode_a = opt.space.mode_a;
    result.mode_b = opt.space.mode_b;
    result.device = hello.device;
    std::vector<std::int64_t> failed_ms;
    for (std::int64_t m : item_.batch_sizes) {
      const auto batch = tune_batch(m, journal, hello.sm_count);
      if (stopped_) break;
      if (batch) result.batches.emplace(m, *batch);
      else failed_ms.push_back(m);
      ctx_.batch_done();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    JournalEntry session;
    session.kind = JournalEntry::Kind::kSession;
    session.seconds = seconds;
    append_journal(journal_path_, session);
    if (stopped_) {
      outcome_.status = TuneItemOutcome::Status::kStopped;
      return outcome_;
    }
    if (!failed_ms.empty()) {
      outcome_.status = TuneItemOutcome::Status::kFailed;
      outcome_.message = fmt::format("every candidate failed at M = {} (nothing written)", fmt::join(failed_ms, ", "));
      return outcome_;
    }
    result.versions = hello.versions;
    for (const auto& [k, v] : opt.versions) result.versions[k] = v;
    result.date_utc = iso8601_utc_now();
    result.time_spent_s = earlier_seconds_ + seconds;
    outcome_.file = write_tuned_config_file(opt.save_path, result);
    outcome_.result = std::move(result);
    outcome_.status = TuneItemOutcome::Status::kTuned;
    return outcome_;
  }

 private:
  bool already_tuned(const std::filesystem::path& file) {
    if (!std::filesystem::exists(file)) return false;
    try {
      TunedConfigFile existing = read_tuned_config_file(file);
      const bool complete = std::all_of(item_.batch_sizes.begin(), item_.batch_sizes.end(),
                                        [&](std::int64_t m) { return existing.batches.contains(m); });
      if (!complete) {
        ctx_.log(fmt::format("{}: lacks some batch sizes; tuning them", file.filename().string()));
        return false;
      }
      outcome_.status = TuneItemOutcome::Status::kAlreadyTuned;
      outcome_.file = file;
      outcome_.result = std::move(existing);
      for (std::size_t i = 0; i < item_.batch_sizes.size(); ++i) ctx_.batch_done();
      return true;
    } catch (const Error& e) {
      ctx_.log(fmt::format("re-tuning: {}", e.what()));
      return false;
    }
  }

  // Stops (for good) when a request expected to take `expected` would not end before the deadline.
  bool out_of_time(std::chrono::duration<double> expected) {
    if (ctx_.stop.load()) stopped_ = true;
    if (!stopped_ && ctx_.deadline && Clock::now() + expected >= *ctx_.deadline) {
      stopped_ = true;
      ctx_.stop.store(true);
    }
    return stopped_;
  }

  // --cold-max-m: batch sizes up to it are timed with the weights from HBM.
  bool timed_cold(std::int64_t m) const { return m <= ctx_.options.cold_max_m; }

  void write_journal(std::int64_t m, JournalEntry::Kind kind, const GemmConfig& config, std::optional<double> us,
               const std::string& error) {
    JournalEntry e;
    e.kind = kind;
    e.m = m;
    e.config = config;
    e.us = us;
    e.error = us ? std::string() : error;
    e.cold = timed_cold(m);
    append_journal(journal_path_, e);
  }

  // One measurement through the worker; nullopt (with `error`) when the candidate failed.
  std::optional<double> measure(const MeasureRequest& request, GemmConfig& measured, std::string& error) {
    const auto t0 = Clock::now();
    const auto outcome = ctx_.worker.call(to_json(request), ctx_.worker.timeouts().measure);
    longest_measure_ = std::max(longest_measure_, std::chrono::duration<double>(Clock::now() - t0));
    ++outcome_.measured;
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
  std::map<std::string, std::string> compile(const std::vector<GemmConfig>& configs) {
    std::map<std::string, std::string> failed;
    if (configs.size() < 2) return failed;  // measuring compiles a single one anyway
    const auto t0 = Clock::now();
    const auto outcome = ctx_.worker.call(compile_request(configs), ctx_.worker.timeouts().compile);
    longest_compile_ = std::max(longest_compile_, std::chrono::duration<double>(Clock::now() - t0));
    if (!outcome.reply) {  // a compile that kills the worker: measure each on its own to find it
      ctx_.log(fmt::format("compile batch of {} kernels: {}", configs.size(), outcome.failure));
      return failed;
    }
    failed = compile_reply_failures(*outcome.reply);
    failed.erase("*");  // a batch that failed as a whole: each is measured (and compiled) on its own
    return failed;
  }

  std::optional<TunedBatch> tune_batch(std::int64_t m, const std::vector<JournalEntry>& journal, int sm_count) {
    const auto& opt = ctx_.options;
    const GemmShape shape{m, item_.n, item_.k};
    const bool cold = timed_cold(m);
    GemmSearchSpace space = opt.space;
    space.out = item_.out;
    std::vector<GemmConfig> candidates;
    for (const GemmConfig& c : gemm_search_space(space)) {
      if (!is_valid(c, shape)) continue;
      candidates.push_back(c);
      // The cost model does not price split-K: a variant ranks beside its unsplit config and the
      // climb reaches it through the split_k knob.
      for (const GemmConfig& v : split_k_variants(c, shape, sm_count)) candidates.push_back(v);
    }
    DeviceModel device;
    device.sm_count = sm_count;
    CandidateSearch search(std::move(candidates), shape, device, opt.search);

    GemmConfig base;
    base.mode_a = space.mode_a;
    base.mode_b = space.mode_b;
    base.out = item_.out;
    // An earlier run's results are handed to the search when it asks for them, not up front: an
    // interrupted batch then goes on as it would have, and a resumed tune takes the same path (and
    // makes the same choice) as one that was never stopped.
    std::optional<GemmConfig> default_config;
    std::optional<double> default_us;
    std::map<GemmConfig, std::optional<double>> journaled;
    for (const JournalEntry& e : journal) {
      if (e.m != m || e.cold != cold) continue;  // a resume with another --cold-max-m measures again
      if (e.kind == JournalEntry::Kind::kDefault) {
        default_config = e.config;
        default_us = e.us;
        search.record(e.config, e.us);
      }
      if (e.kind == JournalEntry::Kind::kCandidate) journaled[e.config] = e.us;
    }
    if (!default_config) {
      if (out_of_time(longest_measure_)) return std::nullopt;
      GemmConfig measured = base;
      std::string error;
      default_us = measure({shape, base, true, cold}, measured, error);
      default_config = measured;
      write_journal(m, JournalEntry::Kind::kDefault, measured, default_us, error);
      search.record(measured, default_us);
    }
    while (true) {
      const std::vector<GemmConfig> batch = search.next_batch();
      if (batch.empty()) break;
      std::vector<GemmConfig> to_measure;
      for (const GemmConfig& c : batch) {
        if (const auto j = journaled.find(c); j != journaled.end()) search.record(c, j->second);
        else to_measure.push_back(c);
      }
      if (to_measure.empty()) continue;
      if (out_of_time(longest_compile_)) return std::nullopt;
      const auto compile_failures = compile(to_measure);
      for (const GemmConfig& c : to_measure) {
        std::optional<double> us;
        std::string error;
        if (const auto f = compile_failures.find(kernel_name(c)); f != compile_failures.end()) {
          error = "compile: " + f->second;
        } else {
          if (out_of_time(longest_measure_)) return std::nullopt;
          GemmConfig measured = c;
          us = measure({shape, c, false, cold}, measured, error);
        }
        if (!us) ctx_.log(fmt::format("  N={} K={} M={}: {} FAILED: {}", item_.n, item_.k, m, kernel_name(c), error));
        write_journal(m, JournalEntry::Kind::kCandidate, c, us, error);
        search.record(c, us);
      }
    }
    for (const auto& [config, us] : journaled) search.record(config, us);  // a path that drifted: keep all it measured
    const auto best = search.best();
    if (!best) {
      ctx_.log(fmt::format("N={} K={} M={}: every candidate FAILED", item_.n, item_.k, m));
      return std::nullopt;
    }
    TunedBatch b;
    b.config = best->config;
    b.best_tflops = tflops(shape, best->us);
    b.default_tflops = default_us ? tflops(shape, *default_us) : 0.0;
    b.default_kernel_name = kernel_name(*default_config);
    b.candidates_tried = search.measured();
    b.candidates_failed = search.failed();
    ctx_.log(fmt::format("{}: N={} K={} M={}: {:.1f} TFLOP/s {} (default {:.1f}, x{:.2f}), {} tried, {} failed",
                         outcome_.device, item_.n, item_.k, m, b.best_tflops, kernel_name(b.config), b.default_tflops,
                         b.default_tflops > 0 ? b.best_tflops / b.default_tflops : 0.0, b.candidates_tried,
                         b.candidates_failed));
    return b;
  }

  const TuneWorkItem& item_;
  ItemContext& ctx_;
  Clock::time_point started_;
  TuneItemOutcome outcome_;
  std::filesystem::path journal_path_;
  double earlier_seconds_ = 0;
  bool stopped_ = false;
  std::chrono::duration<double> longest_measure_{0}, longest_compile_{0};
};

}  // namespace

TuneItemOutcome tune_item(const TuneWorkItem& item, ItemContext& context) { return ItemTuner(item, context).run(); }

}  // namespace fp8kit::tune
