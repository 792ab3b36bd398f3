// Fault isolation without a GPU: the real worker process (`fp8kit tune-worker --fake ...`) with
// crashes, hangs and failures planted by kernel name, driven through the same supervision and
// tuner code that drives GPU workers.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/gemm_config_builder.hpp"
#include "common/test_util.hpp"
#include "core/tuned_configs.hpp"
#include "tune/fake_measurer.hpp"
#include "tune/supervised_worker.hpp"
#include "tune/tune_journal.hpp"
#include "tune/tuner.hpp"
#include "tune/worker_protocol.hpp"

namespace fp8kit::tune {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test::TempDir;

WorkerCommand fake_worker(const std::string& spec) { return {{FP8KIT_CLI_PATH, "tune-worker", "--fake", spec}, {}}; }

using test::gemm_config;

MeasureReply measure(SupervisedWorker& w, const GemmShape& s, const GemmConfig& c, std::string* failure = nullptr) {
  const auto outcome = w.call(to_json(MeasureRequest{s, c, false}), w.timeouts().measure);
  if (!outcome.reply) {
    if (failure) *failure = outcome.failure;
    return {};
  }
  return measure_reply_from_json(*outcome.reply);
}

const GemmShape kShape{64, 7168, 2048};

TEST(TuneWorker, CompileReplyRoundTrips) {
  const std::map<std::string, std::string> failed = {{"gemm_a", "ptxas: too many registers"}, {"*", "out of memory"}};
  EXPECT_EQ(compile_reply_failures(compile_reply(failed)), failed);
  EXPECT_TRUE(compile_reply_failures(compile_reply({})).empty());
  EXPECT_TRUE(compile_reply_failures(nlohmann::json{{"op", "compiled"}}).empty());  // nothing failed
  const std::vector<GemmConfig> configs = {gemm_config(64, 128, 4, 1), gemm_config(128, 192, 3, 2)};
  EXPECT_EQ(compile_request_configs(compile_request(configs)), configs);
}

TEST(TuneWorker, MeasuresAndNamesItsDevice) {
  SupervisedWorker w(fake_worker("device=Fake H100,sm-count=114"), {});
  EXPECT_EQ(w.hello().device, "Fake H100");
  EXPECT_EQ(w.hello().sm_count, 114);
  const MeasureReply r = measure(w, kShape, gemm_config(64, 128, 4, 1));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_DOUBLE_EQ(r.us, fake_time_us(kShape, gemm_config(64, 128, 4, 1), 114));
  // The default heuristic's config comes back with its time.
  const auto d = w.call(to_json(MeasureRequest{kShape, GemmConfig{}, true}), 5s);
  ASSERT_TRUE(d.reply);
  const MeasureReply dr = measure_reply_from_json(*d.reply);
  ASSERT_TRUE(dr.ok && dr.config);
  EXPECT_EQ(*dr.config, fake_default_config(kShape, GemmConfig{}));
  EXPECT_EQ(w.restarts(), 0);
}

TEST(TuneWorker, FakeDeviceNameByVisibleGpuOrEnvironment) {
  using fp8kit::tune::fake_device_name;
  EXPECT_EQ(fake_device_name("Fake H100", nullptr, "3"), "Fake H100");
  EXPECT_EQ(fake_device_name("A|B", nullptr, "0"), "A");
  EXPECT_EQ(fake_device_name("A|B", nullptr, "3"), "B");
  EXPECT_EQ(fake_device_name("A|B", nullptr, nullptr), "A");
  EXPECT_EQ(fake_device_name("A|B", "Node GPU", "1"), "Node GPU");
  EXPECT_EQ(fake_device_name("A|B", "", "1"), "B");
}

TEST(TuneWorker, CrashIsAFailedCandidateAndTheWorkerIsReplaced) {
  SupervisedWorker w(fake_worker("crash=m64n16k128_s4_"), {});
  std::string failure;
  const MeasureReply crashed = measure(w, kShape, gemm_config(64, 16, 4, 1), &failure);
  EXPECT_FALSE(crashed.ok);
  EXPECT_NE(failure.find("signal 11"), std::string::npos) << failure;
  EXPECT_EQ(w.restarts(), 1);
  const MeasureReply next = measure(w, kShape, gemm_config(64, 32, 4, 1));
  EXPECT_TRUE(next.ok) << next.error;  // a fresh worker answers the next candidate
  EXPECT_EQ(w.restarts(), 1);
}

TEST(TuneWorker, HangIsKilledAfterTheTimeoutAndTheWorkerIsReplaced) {
  WorkerTimeouts t;
  t.measure = 400ms;
  SupervisedWorker w(fake_worker("hang=m64n16k128_s4_"), t);
  std::string failure;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(measure(w, kShape, gemm_config(64, 16, 4, 1), &failure).ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(failure.find("timed out"), std::string::npos) << failure;
  EXPECT_EQ(w.restarts(), 1);
  EXPECT_TRUE(measure(w, kShape, gemm_config(64, 32, 4, 1)).ok);
}

TEST(TuneWorker, WrongOutputIsAFailedReplyFromALiveWorker) {
  SupervisedWorker w(fake_worker("fail=m64n16k128_s4_"), {});
  const MeasureReply r = measure(w, kShape, gemm_config(64, 16, 4, 1));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("planted"), std::string::npos) << r.error;
  EXPECT_EQ(w.restarts(), 0);
  // An invalid config is refused by the worker's validate(), also as a failed reply.
  const MeasureReply invalid = measure(w, kShape, gemm_config(64, 256, 8, 2));
  EXPECT_FALSE(invalid.ok);
  EXPECT_EQ(w.restarts(), 0);
}

TEST(TuneWorker, NoGpuIsAnEnvironmentError) {
  SupervisedWorker w(fake_worker("no-gpu"), {});
  try {
    w.hello();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kEnvironment);
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(TuneWorker, AWorkerThatDiesBeforeItsHelloGivesUpAfterThreeTries) {
  SupervisedWorker w({{"/bin/false"}, {}}, {});
  try {
    w.hello();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kEnvironment);
    EXPECT_NE(std::string(e.what()).find("exited with code 1"), std::string::npos) << e.what();
  }
}

// Pipes are close-on-exec: a second worker must not hold the first one's stdout open, or its death
// would never show as end of file.
TEST(TuneWorker, EndOfFileArrivesWhileAnotherWorkerLives) {
  WorkerProcess a(fake_worker("sleep-ms=0"));
  WorkerProcess b(fake_worker("sleep-ms=0"));
  std::string line;
  ASSERT_EQ(a.read_line(line, 10s), WorkerProcess::ReadStatus::kLine);
  ASSERT_EQ(b.read_line(line, 10s), WorkerProcess::ReadStatus::kLine);
  ::kill(a.pid(), SIGKILL);
  EXPECT_EQ(a.read_line(line, 5s), WorkerProcess::ReadStatus::kEof);
  EXPECT_EQ(b.read_line(line, 100ms), WorkerProcess::ReadStatus::kTimeout);
  a.kill_and_reap();
  EXPECT_NE(a.exit_description().find("signal 9"), std::string::npos) << a.exit_description();
}

TEST(TuneWorker, EnvironmentReachesTheWorker) {
  WorkerCommand c{{"/bin/sh", "-c", "echo \"$CUDA_VISIBLE_DEVICES\""}, {{"CUDA_VISIBLE_DEVICES", "3"}}};
  WorkerProcess p(c);
  std::string line;
  ASSERT_EQ(p.read_line(line, 5s), WorkerProcess::ReadStatus::kLine);
  EXPECT_EQ(line, "3");
}

TuneOptions tiny_tune(const fs::path& save, const std::string& spec, int gpus = 1) {
  TuneOptions o;
  o.items = plan_tune_work({{576, 7168}, {7168, 2048}, {1536, 7168}}, DType::kBFloat16, {1, 64, 4096});
  o.save_path = save;
  for (int g = 0; g < gpus; ++g) o.workers.push_back(fake_worker(spec));
  o.timeouts.measure = 1s;
  return o;
}

std::map<std::pair<std::int64_t, std::int64_t>, TunedConfigFile> files_by_shape(const TuneReport& r) {
  std::map<std::pair<std::int64_t, std::int64_t>, TunedConfigFile> out;
  for (const auto& item : r.items) {
    if (item.result) out[{item.item.n, item.item.k}] = *item.result;
  }
  return out;
}

void expect_same_choices(const TunedConfigFile& a, const TunedConfigFile& b) {
  ASSERT_EQ(a.batches.size(), b.batches.size());
  for (const auto& [m, batch] : a.batches) {
    ASSERT_TRUE(b.batches.contains(m)) << m;
    EXPECT_EQ(batch, b.batches.at(m)) << "N=" << a.n << " K=" << a.k << " M=" << m;
  }
}

// Planted faults on configs the search measures (coarse favourites): each is recorded as failed,
// never chosen, and the tune completes with every file.
TEST(TuneRun, SurvivesPlantedCrashHangAndWrongOutputOnTwoWorkers) {
  TempDir dir;
  const std::string crash = "m64n16k128_s4_wg1_c1", hang = "m128n128k128_s5_wg2_c2", fail = "m64n32k128_s4_wg1_c1";
  TuneOptions o = tiny_tune(dir.path(), fmt::format("crash={},hang={},fail={}", crash, hang, fail), 2);
  std::vector<std::string> log;
  o.log = [&](const std::string& l) { log.push_back(l); };
  const TuneReport r = run_tune(o);
  EXPECT_TRUE(r.complete());
  EXPECT_FALSE(r.stopped_by_budget);
  EXPECT_GE(r.worker_restarts, 2);
  int failed = 0;
  for (const auto& item : r.items) {
    ASSERT_TRUE(item.result) << status_name(item.status) << " " << item.message;
    EXPECT_TRUE(fs::exists(item.file));
    EXPECT_EQ(read_tuned_config_file(item.file), *item.result);
    for (const auto& [m, b] : item.result->batches) {
      const std::string name = kernel_name(b.config);
      for (const std::string& bad : {crash, hang, fail}) EXPECT_EQ(name.find(bad), std::string::npos) << name;
      EXPECT_GE(b.best_tflops, b.default_tflops * 0.999);  // the default is a candidate too
      failed += b.candidates_failed;
    }
    // The journal says why each failure failed.
    for (const JournalEntry& e : read_journal(journal_path(dir.path(), item.item.n, item.item.k, item.item.out, item.device)).entries) {
      if (e.kind == JournalEntry::Kind::kCandidate && !e.us) {
        EXPECT_FALSE(e.error.empty());
      }
    }
  }
  EXPECT_GT(failed, 0);
  const std::string all = fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_NE(all.find("signal 11"), std::string::npos);
  EXPECT_NE(all.find("timed out"), std::string::npos);
  EXPECT_NE(all.find("planted"), std::string::npos);

  // The loader then serves the tuned configs by nearest M.
  std::vector<std::string> problems;
  const TunedConfigStore store = TunedConfigStore::load_dir(dir.path(), problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(store.size(), 3u);
  const auto files = files_by_shape(r);
  EXPECT_EQ(store.find({100, 7168, 2048}, DType::kBFloat16, "Fake GPU"), files.at({7168, 2048}).batches.at(64).config);
}

TEST(TuneRun, UnitsAreEveryBatchSizeOnceLongestFirst) {
  const auto items = plan_tune_work({{576, 7168}, {24576, 7168}, {7168, 2048}}, DType::kBFloat16, {1, 64, 4096});
  const std::vector<TuneUnit> units = tune_units_longest_first(items);
  ASSERT_EQ(units.size(), 9u);
  EXPECT_EQ(units.front(), TuneUnit(1, 2));  // 24576 x 7168 at M = 4096
  const auto work = [&](const TuneUnit& u) {
    return items[u.first].batch_sizes[u.second] * items[u.first].n * items[u.first].k;
  };
  for (std::size_t i = 1; i < units.size(); ++i) EXPECT_GE(work(units[i - 1]), work(units[i])) << i;
  EXPECT_EQ(std::set<TuneUnit>(units.begin(), units.end()).size(), units.size());
}

// One shape's batch sizes run on both workers at once, and its file is still written once: the
// worker time the item spent (time_spent_s) exceeds the run's wall time. Measurements sleep 30 ms,
// so sleeping, which overlaps, outweighs the workers' CPU time, which need not on a busy machine
// (at 10 ms a CI clone beside a build measured 1.28x).
TEST(TuneRun, OneItemsBatchSizesSpreadOverTwoWorkers) {
  TempDir dir;
  TuneOptions o = tiny_tune(dir.path(), "sleep-ms=30", 2);
  o.items.resize(1);
  o.items[0].batch_sizes = {1, 16, 64, 4096};
  const TuneReport r = run_tune(o);
  ASSERT_TRUE(r.complete());
  ASSERT_EQ(r.items.size(), 1u);
  const TunedConfigFile& file = *r.items[0].result;
  EXPECT_EQ(file.batches.size(), 4u);
  EXPECT_EQ(read_tuned_config_file(r.items[0].file), file);
  EXPECT_GT(file.time_spent_s, 1.3 * r.seconds) << "worker time " << file.time_spent_s << " s, wall " << r.seconds;
  EXPECT_DOUBLE_EQ(r.worker_seconds(), file.time_spent_s);  // a fresh run: the report's sum is the file's
}

// A one-off fast reading of the runner-up (timing noise) does not pick it: the leaders are measured
// again and count with their median. Without the rechecks the outlier wins, so the test can fail.
TEST(TuneRun, RechecksKeepAFastOutlierFromPickingTheConfig) {
  const auto one_batch = [](const fs::path& save, const std::string& spec) {
    TuneOptions o = tiny_tune(save, spec);
    o.items.resize(1);
    o.items[0].batch_sizes = {4096};
    return o;
  };
  TempDir clean_dir, noisy_dir, unchecked_dir;
  const TuneReport clean = run_tune(one_batch(clean_dir.path(), "sleep-ms=0"));
  ASSERT_TRUE(clean.complete());
  const GemmConfig best = clean.items[0].result->batches.at(4096).config;
  // The runner-up: the fastest other config the search measured.
  std::optional<JournalEntry> runner_up;
  for (const JournalEntry& e : read_journal(journal_path(clean_dir.path(), 576, 7168, DType::kBFloat16, "Fake GPU")).entries) {
    if (e.kind == JournalEntry::Kind::kCandidate && e.us && e.config != best && (!runner_up || *e.us < *runner_up->us)) {
      runner_up = e;
    }
  }
  ASSERT_TRUE(runner_up);
  const std::string outlier = "fast-first=" + kernel_name(runner_up->config);

  const TuneReport noisy = run_tune(one_batch(noisy_dir.path(), outlier));
  ASSERT_TRUE(noisy.complete());
  EXPECT_EQ(noisy.items[0].result->batches.at(4096).config, best);
  int rechecks = 0;
  for (const JournalEntry& e : read_journal(journal_path(noisy_dir.path(), 576, 7168, DType::kBFloat16, "Fake GPU")).entries) {
    rechecks += e.kind == JournalEntry::Kind::kRecheck && e.config == runner_up->config;
  }
  EXPECT_EQ(rechecks, SearchOptions{}.recheck_rounds);

  TuneOptions unchecked = one_batch(unchecked_dir.path(), outlier);
  unchecked.search.recheck_rounds = 0;
  const TuneReport fooled = run_tune(unchecked);
  ASSERT_TRUE(fooled.complete());
  EXPECT_EQ(fooled.items[0].result->batches.at(4096).config, runner_up->config);
}

TEST(TuneRun, TimeBudgetStopsResumablyAndResumeCompletesTheSameFiles) {
  TempDir fresh_dir, interrupted_dir;
  const TuneReport fresh = run_tune(tiny_tune(fresh_dir.path(), "sleep-ms=0"));
  ASSERT_TRUE(fresh.complete());

  TuneOptions slow = tiny_tune(interrupted_dir.path(), "sleep-ms=15");
  slow.time_budget_s = 0.8;
  const TuneReport stopped = run_tune(slow);
  EXPECT_TRUE(stopped.stopped_by_budget);
  EXPECT_FALSE(stopped.complete());
  EXPECT_LT(stopped.seconds, 0.8 + 0.5);
  // Nothing half written: an item's file exists only when the item was finished.
  for (const auto& item : stopped.items) {
    const fs::path f = interrupted_dir.path() / tuned_config_file_name(item.item.n, item.item.k, item.item.out, "Fake GPU");
    EXPECT_EQ(fs::exists(f), item.status == TuneItemOutcome::Status::kTuned) << f;
  }

  TuneOptions resume = tiny_tune(interrupted_dir.path(), "sleep-ms=0");
  resume.resume = true;
  const TuneReport resumed = run_tune(resume);
  ASSERT_TRUE(resumed.complete());
  int measured_again = 0, measured_fresh = 0;
  for (const auto& item : resumed.items) measured_again += item.measured;
  for (const auto& item : fresh.items) measured_fresh += item.measured;
  EXPECT_LT(measured_again, measured_fresh);  // the journal saved the rest
  const auto a = files_by_shape(fresh), b = files_by_shape(resumed);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [shape, file] : a) expect_same_choices(file, b.at(shape));

  // Resuming a finished tune measures nothing.
  const TuneReport again = run_tune(resume);
  for (const auto& item : again.items) {
    EXPECT_EQ(item.status, TuneItemOutcome::Status::kAlreadyTuned);
    EXPECT_EQ(item.measured, 0);
  }
}

TEST(TuneRun, ResumeAfterTheTunerIsKilledCompletesTheSameFiles) {
  TempDir fresh_dir, killed_dir;
  const TuneReport fresh = run_tune(tiny_tune(fresh_dir.path(), "sleep-ms=0"));
  const std::string args = fmt::format(
      "'{}' tune --fake-worker sleep-ms=10 --shapes 576,7168 7168,2048 1536,7168 --batch-sizes 1 64 4096 --save-path '{}'",
      FP8KIT_CLI_PATH, killed_dir.path().string());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", (args + " > /dev/null 2>&1").c_str(), nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(700ms);
  ::kill(-pid, SIGKILL);  // the tuner and its workers, as a lost machine would
  int status = 0;
  ::waitpid(pid, &status, 0);
  int finished = 0;
  for (const auto& e : fs::directory_iterator(killed_dir.path())) finished += e.path().extension() == ".json";
  EXPECT_LT(finished, 3);  // killed mid-run
  EXPECT_TRUE(fs::exists(killed_dir.path() / ".fp8kit-tune-state"));

  TuneOptions resume = tiny_tune(killed_dir.path(), "sleep-ms=0");
  resume.resume = true;
  const TuneReport resumed = run_tune(resume);
  ASSERT_TRUE(resumed.complete());
  const auto a = files_by_shape(fresh), b = files_by_shape(resumed);
  for (const auto& [shape, file] : a) expect_same_choices(file, b.at(shape));
}

TEST(TuneRun, EveryCandidateFailingWritesNothing) {
  TempDir dir;
  TuneOptions o = tiny_tune(dir.path(), "fail=sm90_");
  o.items.resize(1);
  o.items[0].batch_sizes = {64};
  o.search.max_candidates = 5;
  const TuneReport r = run_tune(o);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].status, TuneItemOutcome::Status::kFailed);
  EXPECT_NE(r.items[0].message.find("M = 64"), std::string::npos) << r.items[0].message;
  EXPECT_FALSE(fs::exists(dir.path() / tuned_config_file_name(576, 7168, DType::kBFloat16, "Fake GPU")));
}

}  // namespace
}  // namespace fp8kit::tune
