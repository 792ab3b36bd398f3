// The tuner's files without a GPU: names, the JSON schema (round trip and every way a file can be
// wrong), the resume journal, atomic publication under SIGKILL, and the nearest-M lookup over a
// directory of files.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/gemm_config_builder.hpp"
#include "common/tuned_file_builder.hpp"
#include "common/test_util.hpp"
#include "core/files.hpp"
#include "core/tuned_config_file.hpp"
#include "core/tuned_configs.hpp"
#include "tune/tune_journal.hpp"
#include "tune/tune_plan.hpp"

namespace fp8kit::tune {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

using test::gemm_config;
using test::sample_file;

TEST(TunePlan, FileNameSpellsShapeDtypeAndDevice) {
  EXPECT_EQ(tuned_config_file_name(7168, 2048, DType::kBFloat16, "NVIDIA H100 80GB HBM3"),
            "fp8kit_w8a8_block128x128_N=7168,K=2048,out=bfloat16,device=NVIDIA_H100_80GB_HBM3.json");
  EXPECT_EQ(tuned_config_file_name(576, 7168, DType::kFloat16, "a/b c"),
            "fp8kit_w8a8_block128x128_N=576,K=7168,out=float16,device=a_b_c.json");
  EXPECT_THROW(tuned_config_file_name(576, 7168, DType::kE4M3, "x"), Error);
  EXPECT_EQ(journal_path("/s", 576, 7168, DType::kBFloat16, "H 1"),
            fs::path("/s/.fp8kit-tune-state/fp8kit_w8a8_block128x128_N=576,K=7168,out=bfloat16,device=H_1.jsonl"));
}

TEST(TunePlan, WorkItemsPerDistinctShapeWithSortedBatchSizes) {
  const auto items = plan_tune_work({{576, 7168}, {7168, 2048}, {576, 7168}}, DType::kBFloat16, {64, 1, 64, 8});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].n, 576);
  EXPECT_EQ(items[1].k, 2048);
  EXPECT_EQ(items[0].batch_sizes, (std::vector<std::int64_t>{1, 8, 64}));
  EXPECT_THROW(plan_tune_work({{100, 7168}}, DType::kBFloat16, {1}), Error);  // N % 16
  EXPECT_THROW(plan_tune_work({{576, 100}}, DType::kBFloat16, {1}), Error);   // K % 128
  EXPECT_THROW(plan_tune_work({{576, 7168}}, DType::kBFloat16, {0}), Error);
  EXPECT_THROW(plan_tune_work({}, DType::kBFloat16, {1}), Error);
  EXPECT_EQ(parse_shape_arg("7168,2048"), (NK{7168, 2048}));
  for (const char* bad : {"7168", "7168,", ",2048", "a,b", "7168,2048,1", "-16,128"}) {
    EXPECT_THROW(parse_shape_arg(bad), Error) << bad;
  }
}

TEST(TuneFile, JsonRoundTripAndSchema) {
  const TunedConfigFile f = sample_file();
  const std::string text = to_json_text(f);
  EXPECT_EQ(parse_tuned_config_file(text, "x"), f);
  const auto j = nlohmann::json::parse(text);
  // Batch sizes are string keys with the config and its kernel_name; metadata beside them.
  ASSERT_TRUE(j.contains("64"));
  EXPECT_EQ(j["64"]["block_n"], 128);
  EXPECT_EQ(j["64"]["kernel_name"], kernel_name(gemm_config(64, 128, 4, 1)));
  // split_k only where a config splits K: files without it read as unsplit.
  EXPECT_EQ(j["1"]["split_k"], 4);
  EXPECT_EQ(j["1"]["kernel_name"], "sm90_fp8_gemm_a-group128_b-block128_bf16_m64n32k128_s6_wg1_c1_sk4");
  EXPECT_FALSE(j["64"].contains("split_k"));
  EXPECT_EQ(j["metadata"]["device"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(j["metadata"]["candidates_tried"], 64);
  EXPECT_EQ(j["metadata"]["per_batch_size"]["256"]["default_tflops"], 550.0);
  EXPECT_NEAR(j["metadata"]["per_batch_size"]["1"]["speedup"].get<double>(), 2.8, 1e-12);
  EXPECT_EQ(j.size(), 4u);
  // Ascending M in the text, as a reader of the file expects.
  EXPECT_LT(text.find("\"1\""), text.find("\"64\""));
  EXPECT_LT(text.find("\"64\""), text.find("\"256\""));
}

// split_cluster only where a split sums in its cluster; it survives the round trip.
TEST(TuneFile, SplitClusterRoundTrips) {
  TunedConfigFile f = sample_file();
  f.batches[1].config.split_cluster = 1;
  const std::string text = to_json_text(f);
  EXPECT_EQ(parse_tuned_config_file(text, "x"), f);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["1"]["split_cluster"], 1);
  EXPECT_EQ(j["1"]["kernel_name"], "sm90_fp8_gemm_a-group128_b-block128_bf16_m64n32k128_s6_wg1_c1_sk4cl");
  EXPECT_FALSE(j["64"].contains("split_cluster"));
  EXPECT_FALSE(nlohmann::json::parse(to_json_text(sample_file()))["1"].contains("split_cluster"));
}

TEST(TuneFile, CorruptFilesAreRefusedWithAReason) {
  const std::string good = to_json_text(sample_file());
  const auto edit = [&](const std::function<void(nlohmann::json&)>& fn) {
    auto j = nlohmann::json::parse(good);
    fn(j);
    return j.dump();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {good.substr(0, good.size() / 2), "not JSON"},
      {edit([](auto& j) { j.erase("metadata"); }), "metadata"},
      {edit([](auto& j) { j["metadata"]["format_version"] = 99; }), "format_version"},
      {edit([](auto& j) { j["metadata"]["format"] = "vllm"; }), "format"},
      {edit([](auto& j) { j["64"]["stages"] = 1; }), "invalid config"},
      {edit([](auto& j) { j["64"]["kernel_name"] = "other"; }), "kernel_name"},
      {edit([](auto& j) { j["64"].erase("block_n"); }), "block_n"},
      {edit([](auto& j) { j["64"]["num_warps"] = 4; }), "num_warps"},
      {edit([](auto& j) { j["0x40"] = j["64"]; }), "0x40"},
      {edit([](auto& j) { j["metadata"]["per_batch_size"].erase("64"); }), "per_batch_size"},
      {edit([](auto& j) { j["metadata"]["out"] = "e4m3"; }), "out dtype"},
  };
  for (const auto& [text, needle] : cases) {
    try {
      parse_tuned_config_file(text, "f.json");
      ADD_FAILURE() << "accepted a file that should fail on " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("f.json"), std::string::npos) << e.what();
    }
  }
}

TEST(TuneFile, WrittenUnderItsNameAndReadBack) {
  TempDir dir;
  const TunedConfigFile f = sample_file();
  const fs::path path = write_tuned_config_file(dir.path() / "sub", f);
  EXPECT_EQ(path.filename().string(), tuned_file_name(f));
  EXPECT_EQ(read_tuned_config_file(path), f);
}

int count_atomic_temporaries(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += is_atomic_temp_name(e.path().filename().string());
  return n;
}

// A writer killed at any moment leaves the previous whole file or the new whole file, never half.
// Each kill is aimed at a write in flight (the parent waits until it sees a temporary), and rounds go
// on until a kill has provably landed mid-write, so the test does not depend on the disk's speed.
TEST(TuneFile, KilledWriterLeavesNoHalfFile) {
  TempDir dir;
  TunedConfigFile big = sample_file();
  for (int m = 2; m < 3000; ++m) big.batches[m] = big.batches[1];  // ~1 MB of JSON: writes take a while
  const fs::path path = dir.path() / tuned_file_name(big);
  const std::string text = to_json_text(big);  // before fork: the child only publishes
  int rounds = 0;
  for (; rounds < 8 || (count_atomic_temporaries(dir.path()) == 0 && rounds < 400); ++rounds) {
    const int temporaries_before = count_atomic_temporaries(dir.path());
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      while (true) write_file_atomic(path, text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + rounds % 7));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);  // a dead child writes nothing
    while (count_atomic_temporaries(dir.path()) == temporaries_before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (fs::exists(path)) {
      const TunedConfigFile read = read_tuned_config_file(path);  // throws on half a file
      EXPECT_EQ(read.batches.size(), big.batches.size());
    }
  }
  // Some kill caught a writer mid-write (its temporary is left), and the loader ignores those.
  EXPECT_GT(count_atomic_temporaries(dir.path()), 0) << "no kill landed inside a write in " << rounds << " rounds";
  std::vector<std::string> problems;
  const TunedConfigStore store = TunedConfigStore::load_dir(dir.path(), problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_LE(store.size(), 1u);
}

TEST(TuneJournal, RoundTripAndTruncatedTail) {
  TempDir dir;
  const fs::path path = dir.path() / "state" / "j.jsonl";
  JournalEntry ok{JournalEntry::Kind::kCandidate, 64, gemm_config(64, 128, 4, 1), 12.5, "", 0};
  JournalEntry failed{JournalEntry::Kind::kCandidate, 64, gemm_config(64, 16, 4, 1), std::nullopt, "worker killed by signal 11\nline 2", 0};
  GemmConfig split = gemm_config(64, 32, 8, 1);
  split.split_k = 4;  // the heuristic's split-K pick at a decode shape
  JournalEntry def{JournalEntry::Kind::kDefault, 1, split, 20.0, "", 0, true};  // timed cold
  JournalEntry session{JournalEntry::Kind::kSession, 0, GemmConfig{}, std::nullopt, "", 3.25};
  JournalEntry recheck{JournalEntry::Kind::kRecheck, 64, gemm_config(64, 128, 4, 1), 12.9, "", 0};
  for (const auto& e : {ok, failed, def, session, recheck}) append_journal(path, e);
  Journal j = read_journal(path);
  EXPECT_FALSE(j.dropped_truncated_tail);
  EXPECT_EQ(j.entries, (std::vector<JournalEntry>{ok, failed, def, session, recheck}));

  // A kill in the middle of a write: the cut last line is dropped, the rest kept.
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"kind":"candidate","m":64,"conf)";
  }
  j = read_journal(path);
  EXPECT_TRUE(j.dropped_truncated_tail);
  EXPECT_EQ(j.entries.size(), 5u);
  rewrite_journal(path, j.entries);
  append_journal(path, ok);
  EXPECT_EQ(read_journal(path).entries.size(), 6u);

  // Corruption elsewhere is an error naming the line.
  write_file_atomic(path, "{\"kind\":\"bogus\"}\n" + to_journal_line(ok) + "\n");
  try {
    read_journal(path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("j.jsonl:1"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(read_journal(dir.path() / "missing.jsonl").entries.empty());
}

TEST(TuneLookup, NearestBatchSizeTiesToTheSmaller) {
  const std::vector<std::int64_t> ms{1, 8, 64, 256};
  EXPECT_EQ(nearest_batch_size(ms, 1), 1);
  EXPECT_EQ(nearest_batch_size(ms, 0), 1);
  EXPECT_EQ(nearest_batch_size(ms, 4), 1);    // 3 below, 4 above
  EXPECT_EQ(nearest_batch_size(ms, 5), 8);
  EXPECT_EQ(nearest_batch_size(ms, 36), 8);   // tie: 28 and 28
  EXPECT_EQ(nearest_batch_size(ms, 37), 64);
  EXPECT_EQ(nearest_batch_size(ms, 160), 64);  // tie: 96 and 96
  EXPECT_EQ(nearest_batch_size(ms, 100000), 256);
  EXPECT_THROW(nearest_batch_size({}, 3), Error);
}

TEST(TuneLookup, StoreFindsByShapeDtypeAndDevice) {
  TunedConfigStore store;
  store.add(sample_file());
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  const GemmConfig at_one = sample_file().batches.at(1).config;  // split-K 4
  EXPECT_EQ(store.find({1, 7168, 2048}, DType::kBFloat16, h100), at_one);
  EXPECT_EQ(store.find({32, 7168, 2048}, DType::kBFloat16, h100), at_one);  // 31 from 1, 32 from 64
  EXPECT_EQ(store.find({33, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));  // 32 from 1, 31 from 64
  EXPECT_EQ(store.find({160, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));  // tie 96/96: smaller
  EXPECT_EQ(store.find({4096, 7168, 2048}, DType::kBFloat16, h100), gemm_config(128, 128, 4, 2, 2));
  EXPECT_FALSE(store.find({64, 7168, 2048}, DType::kFloat16, h100));
  EXPECT_FALSE(store.find({64, 7168, 2048}, DType::kBFloat16, "NVIDIA H200"));
  EXPECT_FALSE(store.find({64, 2048, 7168}, DType::kBFloat16, h100));
  // The M = 256 config pairs CTAs along M (cluster_m = 2): at M = 300 (3 tiles of 128) it breaks the
  // even-tile rule, so the next nearest tuned M that is valid serves.
  EXPECT_EQ(store.find({300, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));
}

TEST(TuneLookup, DirectoryLoaderSkipsForeignAndCorruptFilesAndWarnsOnce) {
  TempDir dir;
  write_tuned_config_file(dir.path(), sample_file());
  write_file_atomic(dir.path() / "fp8kit_w8a8_block128x128_N=1,K=1,out=bfloat16,device=x.json", "{ half a fi");
  write_file_atomic(dir.path() / "N=7168,K=2048,device_name=NVIDIA_H100.json", "{}");  // vLLM's name: not ours
  std::vector<std::string> warnings;
  TunedConfigLookup lookup(dir.path(), [&](const std::string& w) { warnings.push_back(w); });
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  EXPECT_EQ(lookup.find({64, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));
  ASSERT_EQ(warnings.size(), 1u);  // the corrupt file, named
  EXPECT_NE(warnings[0].find("N=1,K=1"), std::string::npos) << warnings[0];
  EXPECT_FALSE(lookup.find({64, 4096, 512}, DType::kBFloat16, h100));
  EXPECT_FALSE(lookup.find({128, 4096, 512}, DType::kBFloat16, h100));
  ASSERT_EQ(warnings.size(), 2u);  // one fallback warning for (4096, 512), not one per call
  EXPECT_NE(warnings[1].find("default heuristic"), std::string::npos) << warnings[1];
  EXPECT_FALSE(lookup.find({64, 3072, 1536}, DType::kBFloat16, h100));
  EXPECT_EQ(warnings.size(), 3u);

  std::vector<std::string> none;
  TunedConfigLookup off(std::nullopt, [&](const std::string& w) { none.push_back(w); });
  EXPECT_FALSE(off.find({64, 7168, 2048}, DType::kBFloat16, h100));
  EXPECT_TRUE(none.empty());  // tuned configs not asked for: silent
}

TEST(TuneLookup, ConfigSourcesInOrder) {
  TempDir dir;
  const std::filesystem::path missing = dir.path() / "absent", present = dir.path() / "configs";
  std::filesystem::create_directories(present);
  using Kind = TunedConfigSource::Kind;
  EXPECT_EQ(default_tuned_config_source(nullptr, {missing, present}), (TunedConfigSource{Kind::kShipped, present}));
  EXPECT_EQ(default_tuned_config_source("", {missing, present}), (TunedConfigSource{Kind::kShipped, present}));
  EXPECT_EQ(default_tuned_config_source(nullptr, {missing}), TunedConfigSource{});
  EXPECT_EQ(default_tuned_config_source("none", {present}), TunedConfigSource{});
  EXPECT_EQ(default_tuned_config_source("/my/tuned", {present}), (TunedConfigSource{Kind::kDir, "/my/tuned"}));
  EXPECT_FALSE(config_dir_flag_source(""));
  EXPECT_EQ(config_dir_flag_source("none"), TunedConfigSource{});
  EXPECT_EQ(config_dir_flag_source("tuned"), (TunedConfigSource{Kind::kDir, "tuned"}));
}

TEST(TuneLookup, ShippedConfigsAreFoundByDeviceName) {
  TempDir root;
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  write_tuned_config_file(root.path() / device_file_tag(h100), sample_file());
  std::vector<std::string> warnings;
  TunedConfigLookup lookup(TunedConfigSource{TunedConfigSource::Kind::kShipped, root.path()},
                           [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(lookup.find({64, 7168, 2048}, DType::kBFloat16, h100), gemm_config(64, 128, 4, 1));
  // Another device, or a shape nobody tuned: the heuristic, silently (nobody asked for a directory).
  EXPECT_FALSE(lookup.find({64, 7168, 2048}, DType::kBFloat16, "NVIDIA H200"));
  EXPECT_FALSE(lookup.find({64, 4096, 512}, DType::kBFloat16, h100));
  EXPECT_TRUE(warnings.empty());
}

TEST(TuneLookup, TheRepositorysConfigsServeAnH200AndAnH100WithNothingSet) {
  // This binary runs from the build tree: its configs come from the source tree's configs/ folder.
  const TunedConfigSource source = default_tuned_config_source(nullptr, shipped_config_roots());
  ASSERT_EQ(source.kind, TunedConfigSource::Kind::kShipped);
  EXPECT_EQ(std::filesystem::canonical(source.path), std::filesystem::canonical(FP8KIT_SOURCE_DIR "/configs"));
  const TunedConfigFile shipped = read_tuned_config_file(std::filesystem::path(FP8KIT_SOURCE_DIR "/configs/NVIDIA_H200") /
                                                         tuned_config_file_name(7168, 2048, DType::kBFloat16, "NVIDIA H200"));
  TunedConfigLookup lookup(source, [](const std::string& w) { ADD_FAILURE() << w; });
  EXPECT_EQ(lookup.find({4096, 7168, 2048}, DType::kBFloat16, "NVIDIA H200"), shipped.batches.at(4096).config);
  if (std::getenv("FP8KIT_CONFIG_DIR") == nullptr) {
    reset_tuned_config_dir();
    EXPECT_EQ(current_tuned_config_source(), source);
    EXPECT_EQ(find_tuned_config({4096, 7168, 2048}, DType::kBFloat16, "NVIDIA H200"), shipped.batches.at(4096).config);
  }
  // Each GPU by its own folder: at 3072 x 7168, M = 2048 the H100's entry (re-chosen there) differs.
  const std::string h100 = "NVIDIA H100 80GB HBM3";
  const auto shipped_file = [](const std::string& gpu) {
    return read_tuned_config_file(std::filesystem::path(FP8KIT_SOURCE_DIR "/configs") / device_file_tag(gpu) /
                                  tuned_config_file_name(3072, 7168, DType::kBFloat16, gpu));
  };
  const GemmConfig on_h100 = shipped_file(h100).batches.at(2048).config;
  EXPECT_NE(on_h100, shipped_file("NVIDIA H200").batches.at(2048).config);
  EXPECT_EQ(lookup.find({2048, 3072, 7168}, DType::kBFloat16, h100), on_h100);
}

TEST(TuneLookup, ProcessWideLookupFollowsTheConfiguredDirectory) {
  TempDir dir;
  write_tuned_config_file(dir.path(), sample_file());
  set_tuned_config_dir(dir.path());
  EXPECT_EQ(find_tuned_config({64, 7168, 2048}, DType::kBFloat16, "NVIDIA H100 80GB HBM3"), gemm_config(64, 128, 4, 1));
  set_tuned_config_dir(std::nullopt);
  EXPECT_FALSE(find_tuned_config({64, 7168, 2048}, DType::kBFloat16, "NVIDIA H100 80GB HBM3"));
}

}  // namespace
}  // namespace fp8kit::tune

#include "tune/cache_warm.hpp"

namespace fp8kit::tune {
namespace {

TEST(TuneCacheWarm, TunedWhereKnownElseDefaultOncePerKernel) {
  const GemmConfig tuned = gemm_config(64, 32, 6, 1), fallback = gemm_config(128, 128, 4, 2);
  GemmConfig same_kernel = fallback;
  same_kernel.group_size_m = 16;  // run time only: the same kernel
  int fallbacks = 0;
  const auto kernels = kernels_to_warm(
      {{7168, 2048}, {576, 7168}}, {1, 64, 4096},
      [&](const GemmShape& s) -> std::optional<GemmConfig> {
        if (s.n == 7168 && s.m == 1) return tuned;
        return std::nullopt;
      },
      [&](const GemmShape& s) {
        ++fallbacks;
        return s.m == 64 ? same_kernel : fallback;
      });
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].config, tuned);
  EXPECT_TRUE(kernels[0].tuned);
  EXPECT_EQ(kernels[1].config, same_kernel);  // first use wins
  EXPECT_FALSE(kernels[1].tuned);
  EXPECT_EQ(fallbacks, 5);
}

}  // namespace
}  // namespace fp8kit::tune
