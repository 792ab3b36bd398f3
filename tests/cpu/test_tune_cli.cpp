// `fp8kit tune` as a user runs it: flags, exit codes (DESIGN.md §8), and a whole tune with the
// fake worker (no GPU) whose files land in --save-path.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "cli_runner.hpp"
#include "core/gemm_config_json.hpp"
#include "core/tuned_config_file.hpp"
#include "ops/sm90_fp8_gemm.hpp"
#include "tune/tune_args.hpp"

namespace {

namespace fs = std::filesystem;
using fp8kit::test::CliRun;
using fp8kit::test::run_cli;

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / fmt::format("fp8kit-tune-cli-{:08x}", rd());
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(TuneCli, HelpListsTheFlagsAndHidesTheWorker) {
  const CliRun help = run_cli("tune --help");
  ASSERT_EQ(help.exit_code, 0) << help.output;
  for (const char* flag : {"--tp-size", "--input-type", "--out-dtype", "--block-n", "--block-k", "--batch-size",
                           "--batch-sizes", "--model", "--shapes", "--save-path", "--gpus", "--resume", "--time-budget",
                           "--device-name", "--mode-a", "--mode-b"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.output.find("--fake-worker"), std::string::npos);
  const CliRun top = run_cli("--help");
  EXPECT_NE(top.output.find("tune"), std::string::npos);
  EXPECT_EQ(top.output.find("tune-worker"), std::string::npos);
}

TEST(TuneCli, BadUsageExitsTwo) {
  const std::string fake = "--fake-worker sleep-ms=0 --save-path /tmp/fp8kit-never-written";
  for (const std::string args : {"--input-type int8", "--block-n 64", "--block-k 256", "--out-dtype e4m3",
                                 "--shapes 100,7168", "--shapes 7168", "--time-budget soon", "--time-budget 0",
                                 "--batch-sizes 0", "--batch-size -4", "--tp-size 0", "--gpus -1",
                                 "--model deepseek-ai/DeepSeek-V3 --shapes 576,7168", "--model no-org/no-model",
                                 "--tp-size 7", "--candidate-timeout 0", "--ray 127.0.0.1:1 --gpus 0",
                                 "--mode-a channel", "--mode-b token", "--mode-a group64"}) {
    const CliRun r = run_cli(fmt::format("tune {} {}", args, fake));
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    if (args.starts_with("--mode-")) {
      EXPECT_NE(r.output.find(args.substr(0, 8)), std::string::npos) << r.output;
    }
  }
  const CliRun spec = run_cli("tune --fake-worker bogus=1 --shapes 576,7168");
  EXPECT_EQ(spec.exit_code, 2) << spec.output;
  EXPECT_FALSE(fs::exists("/tmp/fp8kit-never-written"));
}

TEST(TuneCli, NoGpuExitsThree) {
  TempDir dir;
  const CliRun real = run_cli(fmt::format("tune --shapes 576,7168 --save-path '{}'", dir.path.string()));
  EXPECT_EQ(real.exit_code, 3) << real.output;
  EXPECT_NE(real.output.find("GPU"), std::string::npos) << real.output;
  const CliRun fake = run_cli(fmt::format("tune --fake-worker no-gpu --shapes 576,7168 --save-path '{}'", dir.path.string()));
  EXPECT_EQ(fake.exit_code, 3) << fake.output;
}

TEST(TuneCli, FakeTuneWritesOneFilePerShapeAndPrintsTheSummary) {
  TempDir dir;
  const CliRun r = run_cli(fmt::format(
      "tune --fake-worker 'device=Fake H100' --gpus 0,1 --shapes 576,7168 7168,2048 --batch-sizes 1 16 128 --save-path '{}'",
      dir.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("speedup"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[100%]"), std::string::npos) << r.output;
  for (const auto& [n, k] : {std::pair{576, 7168}, std::pair{7168, 2048}}) {
    const fs::path f = dir.path / fmt::format("fp8kit_w8a8_block128x128_N={},K={},out=bfloat16,device=Fake_H100.json", n, k);
    ASSERT_TRUE(fs::exists(f)) << f << "\n" << r.output;
    const auto file = fp8kit::read_tuned_config_file(f);
    EXPECT_EQ(file.batches.size(), 3u);
    EXPECT_EQ(file.device, "Fake H100");
    EXPECT_FALSE(file.versions.at("git").empty());
  }
  // --resume over a finished tune measures nothing and keeps the files.
  const CliRun again = run_cli(fmt::format(
      "tune --fake-worker 'device=Fake H100' --shapes 576,7168 7168,2048 --batch-sizes 1 16 128 --save-path '{}' --resume",
      dir.path.string()));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already tuned"), std::string::npos) << again.output;
}

TEST(TuneCli, ModeFlagsTuneAnotherScalePairIntoItsOwnFiles) {
  TempDir dir;
  const CliRun r = run_cli(fmt::format("tune --fake-worker 'device=Fake H100' --shapes 4096,4096 --batch-sizes 16 64 "
                                       "--mode-a token --mode-b channel --save-path '{}'",
                                       dir.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("scales a-token_b-channel"), std::string::npos) << r.output;
  const fs::path f = dir.path / "fp8kit_w8a8_a-token_b-channel_N=4096,K=4096,out=bfloat16,device=Fake_H100.json";
  ASSERT_TRUE(fs::exists(f)) << r.output;
  const auto file = fp8kit::read_tuned_config_file(f);
  EXPECT_EQ(file.mode_a, fp8kit::ScaleModeA::kToken);
  EXPECT_EQ(file.mode_b, fp8kit::ScaleModeB::kChannel);
  EXPECT_EQ(file.batches.size(), 2u);
}

// --cold-max-m reaches the workers: the fake times a cold request 1.25x, so the best TFLOP/s at
// M <= 16 is 0.8x an all-graph tune's (the same configs win) and M = 128 is unchanged; the files
// say how they were timed, and the journal keeps cold and graph times apart. Without the flag the
// decode batch sizes (M <= 64) are timed cold.
TEST(TuneCli, ColdMaxMTimesTheDecodeBatchSizesCold) {
  TempDir graph, cold, by_default;
  const std::string common = "tune --fake-worker 'device=Fake H100' --shapes 576,7168 --batch-sizes 1 16 128";
  ASSERT_EQ(run_cli(fmt::format("{} --cold-max-m 0 --save-path '{}'", common, graph.path.string())).exit_code, 0);
  const CliRun r = run_cli(fmt::format("{} --cold-max-m 16 --save-path '{}'", common, cold.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path name = "fp8kit_w8a8_block128x128_N=576,K=7168,out=bfloat16,device=Fake_H100.json";
  const auto g = fp8kit::read_tuned_config_file(graph.path / name), c = fp8kit::read_tuned_config_file(cold.path / name);
  for (std::int64_t m : {1, 16, 128}) {
    EXPECT_EQ(c.batches.at(m).config, g.batches.at(m).config) << m;
    EXPECT_NEAR(c.batches.at(m).best_tflops / g.batches.at(m).best_tflops, m <= 16 ? 0.8 : 1.0, 1e-9) << m;
  }
  EXPECT_EQ(c.versions.at("timing"), "cold up to M = 16, graph above");
  EXPECT_FALSE(g.versions.contains("timing"));
  // Resuming the cold run's journal with graph timing measures M <= 16 again: no cold time is reused.
  fs::remove(cold.path / name);
  ASSERT_EQ(run_cli(fmt::format("{} --cold-max-m 0 --resume --save-path '{}'", common, cold.path.string())).exit_code, 0);
  const auto resumed = fp8kit::read_tuned_config_file(cold.path / name);
  for (std::int64_t m : {1, 16, 128}) EXPECT_DOUBLE_EQ(resumed.batches.at(m).best_tflops, g.batches.at(m).best_tflops) << m;
  EXPECT_EQ(run_cli(common + " --cold-max-m -1 --save-path /tmp/fp8kit-never-written").exit_code, 2);
  ASSERT_EQ(run_cli(fmt::format("{} --save-path '{}'", common, by_default.path.string())).exit_code, 0);
  EXPECT_EQ(fp8kit::read_tuned_config_file(by_default.path / name).versions.at("timing"), "cold up to M = 64, graph above");
}

// --config-dir: each search first measures the config the named files hold for its (N, K, M) (the
// library's pick today), so a search too short to find it (2 measurements here) still returns it
// where it is the fastest: a re-tune never ships a step back.
TEST(TuneCli, ConfigDirConfigsAreMeasuredFirstSoAReTuneNeverStepsBack) {
  TempDir best, short_run, seeded;
  const std::string common = "tune --fake-worker 'device=Fake H100' --shapes 576,7168 --batch-sizes 16 128";
  ASSERT_EQ(run_cli(fmt::format("{} --exhaustive --config-dir none --save-path '{}'", common, best.path.string())).exit_code, 0);
  const std::string few = common + " --max-candidates 2";
  ASSERT_EQ(run_cli(fmt::format("{} --config-dir none --save-path '{}'", few, short_run.path.string())).exit_code, 0);
  const CliRun r = run_cli(fmt::format("{} --config-dir '{}' --save-path '{}'", few, best.path.string(), seeded.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(", before "), std::string::npos) << r.output;  // the log gives the incumbent's speed
  const fs::path name = "fp8kit_w8a8_block128x128_N=576,K=7168,out=bfloat16,device=Fake_H100.json";
  const auto b = fp8kit::read_tuned_config_file(best.path / name);
  const auto s = fp8kit::read_tuned_config_file(short_run.path / name);
  const auto d = fp8kit::read_tuned_config_file(seeded.path / name);
  for (std::int64_t m : {16, 128}) {
    EXPECT_NE(s.batches.at(m).config, b.batches.at(m).config) << m << ": the short search alone must miss the best";
    EXPECT_EQ(d.batches.at(m).config, b.batches.at(m).config) << m;
    EXPECT_DOUBLE_EQ(d.batches.at(m).best_tflops, b.batches.at(m).best_tflops) << m;
  }
}

// --bench-timing and --b-is-weight reach the worker (an unknown worker flag would exit 2) and the
// files say so; without them the files say nothing of either.
TEST(TuneCli, TimingFlagsArePassedToTheWorkersAndRecorded) {
  TempDir dir, plain;
  const std::string plan = "--fake-worker sleep-ms=0 --shapes 576,7168 --batch-sizes 128";
  const CliRun r = run_cli(fmt::format("tune {} --bench-timing --b-is-weight --save-path '{}'", plan, dir.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const CliRun p = run_cli(fmt::format("tune {} --save-path '{}'", plan, plain.path.string()));
  ASSERT_EQ(p.exit_code, 0) << p.output;
  const fs::path name = "fp8kit_w8a8_block128x128_N=576,K=7168,out=bfloat16,device=Fake_GPU.json";
  const auto f = fp8kit::read_tuned_config_file(dir.path / name);
  EXPECT_NE(f.versions.at("replays").find("bench gemm"), std::string::npos);
  EXPECT_NE(f.versions.at("b_is_weight").find("linear()"), std::string::npos);
  const auto g = fp8kit::read_tuned_config_file(plain.path / name);
  EXPECT_EQ(g.versions.count("replays"), 0U);
  EXPECT_EQ(g.versions.count("b_is_weight"), 0U);
}

// A host (or cluster) with two GPU kinds: every shape is tuned once per kind, into one file set
// per device name, and each set equals what a host of that kind alone would write.
TEST(TuneCli, MixedGpusTuneEveryShapeOncePerDeviceKind) {
  TempDir mixed, alone, filtered;
  const std::string plan = "--shapes 576,7168 7168,2048 --batch-sizes 1 16";
  const CliRun r = run_cli(fmt::format("tune --fake-worker 'device=Fake A|Fake B' --gpus 0,1,2 {} --save-path '{}'",
                                       plan, mixed.path.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("# Fake A: 2 of 2 shapes tuned"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("# Fake B: 2 of 2 shapes tuned"), std::string::npos) << r.output;
  const CliRun one = run_cli(fmt::format("tune --fake-worker 'device=Fake A' {} --save-path '{}'", plan, alone.path.string()));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  for (const auto& [n, k] : {std::pair{576, 7168}, std::pair{7168, 2048}}) {
    const auto file = [&](const fs::path& dir, const char* device) {
      return dir / fmt::format("fp8kit_w8a8_block128x128_N={},K={},out=bfloat16,device={}.json", n, k, device);
    };
    ASSERT_TRUE(fs::exists(file(mixed.path, "Fake_B"))) << r.output;
    const auto a = fp8kit::read_tuned_config_file(file(mixed.path, "Fake_A"));
    const auto b = fp8kit::read_tuned_config_file(file(alone.path, "Fake_A"));
    ASSERT_EQ(a.batches.size(), b.batches.size());
    for (const auto& [m, batch] : a.batches) EXPECT_EQ(batch.config, b.batches.at(m).config) << "M=" << m;
  }
  // --device-name keeps one kind; a name no worker has is bad usage that names the ones there are.
  const CliRun only_b = run_cli(fmt::format("tune --fake-worker 'device=Fake A|Fake B' --gpus 0,1 --device-name 'Fake B' {} --save-path '{}'",
                                            plan, filtered.path.string()));
  ASSERT_EQ(only_b.exit_code, 0) << only_b.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(filtered.path), fs::directory_iterator{}), 3);  // 2 files + resume state
  const CliRun none = run_cli(fmt::format("tune --fake-worker 'device=Fake A|Fake B' --gpus 0,1 --device-name 'Fake C' {} --save-path '{}'",
                                          plan, filtered.path.string()));
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("Fake A"), std::string::npos) << none.output;
}

TEST(TuneCli, ATimeBudgetStopCleanlyExitsZeroAndSaysResume) {
  TempDir dir;
  const CliRun r = run_cli(fmt::format(
      "tune --fake-worker sleep-ms=20 --shapes 576,7168 --batch-sizes 1 16 128 --time-budget 0.5s --save-path '{}'",
      dir.path.string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
}

TEST(TuneCli, AllCandidatesFailingExitsOne) {
  TempDir dir;
  const CliRun r = run_cli(fmt::format(
      "tune --fake-worker fail=sm90 --shapes 576,7168 --batch-size 8 --max-candidates 3 --save-path '{}'", dir.path.string()));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED"), std::string::npos) << r.output;
}

TEST(TuneArgs, TimeBudgetUnits) {
  EXPECT_DOUBLE_EQ(fp8kit::tune::parse_time_budget("540"), 540);
  EXPECT_DOUBLE_EQ(fp8kit::tune::parse_time_budget("540s"), 540);
  EXPECT_DOUBLE_EQ(fp8kit::tune::parse_time_budget("9m"), 540);
  EXPECT_DOUBLE_EQ(fp8kit::tune::parse_time_budget("1.5h"), 5400);
  for (const char* bad : {"", "s", "-5", "0", "5d", "inf", "nan"}) EXPECT_THROW(fp8kit::tune::parse_time_budget(bad), fp8kit::Error) << bad;
}

TEST(TuneArgs, WorkersSeeTheirGpuThroughCudaVisibleDevices) {
  using fp8kit::tune::worker_visible_devices;
  EXPECT_EQ(worker_visible_devices({0, 1}, nullptr, 2), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(worker_visible_devices({1}, "4,6", 2), (std::vector<std::string>{"6"}));
  EXPECT_EQ(worker_visible_devices({0}, "GPU-abc", 1), (std::vector<std::string>{"GPU-abc"}));
  EXPECT_THROW(worker_visible_devices({2}, nullptr, 2), fp8kit::Error);
  EXPECT_THROW(worker_visible_devices({2}, "4,6", 0), fp8kit::Error);
  EXPECT_THROW(worker_visible_devices({1, 1}, nullptr, 2), fp8kit::Error);
}

}  // namespace

namespace {

// cache warm compiles the tuned kernels of a model (NVRTC, no GPU needed), then finds them cached.
TEST(TuneCli, CacheWarmCompilesTheTunedKernelsOnce) {
  TempDir dir;
  const fs::path configs = dir.path / "configs", cache = dir.path / "cache";
  const CliRun tune = run_cli(fmt::format("tune --fake-worker sleep-ms=0 --tp-size 8 --batch-size 64 --save-path '{}'",
                                          configs.string()));
  ASSERT_EQ(tune.exit_code, 0) << tune.output;
  const std::string warm = fmt::format(
      "--cache-dir '{}' cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 64 --config-dir '{}' "
      "--device-name 'Fake GPU'",
      cache.string(), configs.string());
  const CliRun cold = run_cli(warm);
  ASSERT_EQ(cold.exit_code, 0) << cold.output;
  EXPECT_NE(cold.output.find("tuned, 0 default heuristic"), std::string::npos) << cold.output;
  EXPECT_NE(cold.output.find("0 already cached"), std::string::npos) << cold.output;
  const CliRun again = run_cli(warm);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 compiled"), std::string::npos) << again.output;
}

// cache warm --mode-a/--mode-b warms the kernels of that scale pair: the pair's tuned files, and
// the block pair's heuristic without the flags.
TEST(TuneCli, CacheWarmTakesTheScalePairsTunedFiles) {
  TempDir dir;
  const fs::path configs = dir.path / "configs", cache = dir.path / "cache";
  const std::string model = "--model meta-llama/Llama-3.1-8B-Instruct";
  const CliRun tune = run_cli(fmt::format("tune --fake-worker sleep-ms=0 {} --tp-size 1 --batch-size 64 --mode-a token "
                                          "--mode-b channel --save-path '{}'",
                                          model, configs.string()));
  ASSERT_EQ(tune.exit_code, 0) << tune.output;
  const std::string warm = fmt::format("--cache-dir '{}' cache warm {} --batch-sizes 64 --config-dir '{}' --device-name 'Fake GPU'",
                                       cache.string(), model, configs.string());
  const CliRun token_channel = run_cli(warm + " --mode-a token --mode-b channel");
  ASSERT_EQ(token_channel.exit_code, 0) << token_channel.output;
  EXPECT_NE(token_channel.output.find(" tuned, 0 default heuristic"), std::string::npos) << token_channel.output;
  const CliRun block = run_cli(warm);
  ASSERT_EQ(block.exit_code, 0) << block.output;
  EXPECT_NE(block.output.find("(0 tuned, "), std::string::npos) << block.output;
  EXPECT_NE(block.output.find("0 already cached"), std::string::npos) << block.output;  // other kernels
  EXPECT_EQ(block.output.find("warning"), std::string::npos) << block.output;  // no block files: silent
  EXPECT_EQ(run_cli(warm + " --mode-b token").exit_code, 2);
}

// cache warm --show-configs prints each (N, K, M)'s config as a JSON line and compiles nothing: the
// heuristic's (at --sm-count) without tuned files, the tuned ones from a folder that has them.
TEST(TuneCli, CacheWarmShowsEachShapesConfig) {
  TempDir dir;
  const fs::path configs = dir.path / "configs", cache = dir.path / "cache";
  ASSERT_EQ(run_cli(fmt::format("tune --fake-worker sleep-ms=0 --tp-size 8 --batch-size 64 --save-path '{}'",
                                configs.string()))
                .exit_code,
            0);
  const auto show = [&](const std::string& config_dir) {
    const CliRun r = run_cli(fmt::format(
        "--cache-dir '{}' cache warm --model deepseek-ai/DeepSeek-V3 --tp 8 --batch-sizes 1 64 --config-dir '{}' "
        "--device-name 'Fake GPU' --sm-count 100 --show-configs",
        cache.string(), config_dir));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<nlohmann::json> lines;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  };
  const auto heuristic = show("none");
  ASSERT_EQ(heuristic.size(), 30u);  // 15 shapes x 2 batch sizes
  for (const nlohmann::json& j : heuristic) {
    const fp8kit::GemmConfig c = fp8kit::config_from_json(j["config"], "line");
    const fp8kit::GemmShape s{j["m"].get<std::int64_t>(), j["n"].get<std::int64_t>(), j["k"].get<std::int64_t>()};
    EXPECT_FALSE(j["tuned"].get<bool>());
    EXPECT_EQ(c, fp8kit::ops::default_gemm_config(s, fp8kit::ScaleModeA::kGroup128, fp8kit::ScaleModeB::kBlock128,
                                                  fp8kit::DType::kBFloat16, 100))
        << j.dump();
    EXPECT_EQ(j["kernel_name"], fp8kit::kernel_name(c));
  }
  const auto tuned = show(configs.string());
  ASSERT_EQ(tuned.size(), 30u);
  for (const nlohmann::json& j : tuned) EXPECT_TRUE(j["tuned"].get<bool>()) << j.dump();  // M = 1: the nearest M
  EXPECT_FALSE(fs::exists(cache) && !fs::is_empty(cache));
}

}  // namespace
