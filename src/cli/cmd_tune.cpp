// fp8kit tune: the block-scaled FP8 GEMM tuner, and its hidden per-GPU worker
// `fp8kit tune-worker`, which the tuner starts once per GPU (CUDA_VISIBLE_DEVICES) and replaces
// when a candidate kills or hangs it.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/model_shapes.hpp"
#include "core/tuned_configs.hpp"
#include "cuda/device.hpp"
#include "fp8kit/version.hpp"
#include "jit/options.hpp"
#include "tune/fake_measurer.hpp"
#include "tune/gpu_measurer.hpp"
#include "tune/ray_workers.hpp"
#include "tune/tune_args.hpp"
#include "tune/tuner.hpp"
#include "tune/worker_loop.hpp"

namespace fp8kit::cli {
namespace {

struct TuneArgs {
  int tp_size = 8;
  std::string input_type = "fp8";
  std::string out_dtype = "bfloat16";
  int block_n = 128;
  int block_k = 128;
  ScalePairFlags scales;  // the scale pair tuned
  std::optional<std::int64_t> batch_size;
  std::vector<std::int64_t> batch_sizes = tune::default_tune_batch_sizes();
  std::string model = std::string(tune::kDefaultTuneModel);
  std::vector<std::string> shapes;
  std::string save_path = "tuned_configs";
  std::vector<int> gpus;
  bool resume = false;
  std::string time_budget;
  // Decode batch sizes are timed cold by default, weights from HBM as in serving: graph-tuned decode
  // picks lost 8-28% cold on the H100 (PERF.md, sessions 34 and 38), the shipped folders are cold.
  std::int64_t cold_max_m = 64;
  std::string device_name;  // --device-name: only GPUs of this name
  std::string config_dir;   // --config-dir: the configs each search measures first ("none": off)
  std::string ray;           // --ray ADDRESS: the workers on a Ray cluster's GPUs
  std::string ray_resource;  // hidden: a custom resource per worker instead of a GPU (tests)
  // hidden: testing and experiments
  std::string fake_worker;
  double candidate_timeout_s = 60;
  int max_candidates = tune::SearchOptions{}.max_candidates;
  int coarse_tiles = tune::SearchOptions{}.coarse_tiles;
  bool exhaustive = false;
  bool bench_timing = false;
  bool b_is_weight = false;
};

std::vector<tune::TuneWorkItem> plan(const TuneArgs& a, DType out) {
  std::vector<tune::NK> shapes;
  if (!a.shapes.empty()) {
    for (const std::string& s : a.shapes) shapes.push_back(tune::parse_shape_arg(s));
  } else {
    for (const LinearShape& s : model_shapes(a.model, a.tp_size)) shapes.push_back({s.n, s.k});
  }
  std::vector<std::int64_t> ms = a.batch_size ? std::vector<std::int64_t>{*a.batch_size} : a.batch_sizes;
  return tune::plan_tune_work(shapes, out, ms);
}

tune::WorkerCommand worker_command(const TuneArgs& a) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw_environment(fmt::format("tune: cannot find this program's path (/proc/self/exe): {}", ec.message()));
  tune::WorkerCommand c;
  c.argv.push_back(self.string());
  const jit::JitOptions& jit = jit::global_options();
  if (!jit.cache_dir.empty()) c.argv.insert(c.argv.end(), {"--cache-dir", jit.cache_dir.string()});
  if (jit.debug) c.argv.push_back("--jit-debug");
  if (jit.dump_sass) c.argv.push_back("--jit-dump-sass");
  c.argv.push_back("tune-worker");
  if (!a.fake_worker.empty()) c.argv.insert(c.argv.end(), {"--fake", a.fake_worker});
  if (a.bench_timing) c.argv.push_back("--bench-timing");
  if (a.b_is_weight) c.argv.push_back("--b-is-weight");
  return c;
}

std::vector<tune::WorkerCommand> workers(const TuneArgs& a) {
  if (!a.ray.empty()) {
    tune::RayWorkers ray{a.ray, a.ray_resource};
    if (const char* python = std::getenv("FP8KIT_RAY_PYTHON"); python != nullptr && *python != '\0') ray.python = python;
    return tune::ray_worker_commands(ray, worker_command(a));
  }
  std::vector<int> gpus = a.gpus;
  int visible = 0;
  if (a.fake_worker.empty()) {
    visible = cuda::device_count();
    if (visible == 0) throw_environment(fmt::format("tune needs a GPU: {}", cuda::no_device_reason()));
  }
  if (gpus.empty()) {
    for (int g = 0; g < std::max(visible, 1); ++g) gpus.push_back(g);
  }
  std::vector<tune::WorkerCommand> out;
  for (const std::string& id : tune::worker_visible_devices(gpus, std::getenv("CUDA_VISIBLE_DEVICES"), visible)) {
    tune::WorkerCommand c = worker_command(a);
    c.env.emplace_back("CUDA_VISIBLE_DEVICES", id);
    out.push_back(std::move(c));
  }
  return out;
}

void run_tune_command(const TuneArgs& a) {
  if (a.input_type != "fp8") throw_invalid_argument(fmt::format("--input-type: '{}' (only fp8 is tuned)", a.input_type));
  if (a.block_n != 128 || a.block_k != 128) {
    throw_invalid_argument(fmt::format("--block-n/--block-k: {}x{} (only 128x128 weight blocks are tuned)", a.block_n, a.block_k));
  }
  if (a.candidate_timeout_s <= 0) throw_invalid_argument("--candidate-timeout must be positive");
  tune::TuneOptions o;
  const TunedScales scales = a.scales.parse();
  o.space.mode_a = scales.a;
  o.space.mode_b = scales.b;
  o.items = plan(a, parse_dtype(a.out_dtype));
  o.save_path = a.save_path;
  o.resume = a.resume;
  if (!a.time_budget.empty()) o.time_budget_s = tune::parse_time_budget(a.time_budget);
  o.search.max_candidates = a.max_candidates;
  o.search.coarse_tiles = a.coarse_tiles;
  o.search.exhaustive = a.exhaustive;
  o.timeouts.measure = std::chrono::milliseconds(static_cast<std::int64_t>(a.candidate_timeout_s * 1000));
  if (!a.fake_worker.empty()) (void)tune::parse_fake_worker_spec(a.fake_worker);  // bad usage before starting workers
  o.workers = workers(a);
  if (!a.device_name.empty()) o.device_name = a.device_name;
  o.versions = {{"fp8kit", std::string(version())}, {"git", std::string(git_revision())}};
  o.cold_max_m = a.cold_max_m;
  const TunedConfigSource incumbents = tuned_config_source_for_flag(a.config_dir);
  if (incumbents.kind != TunedConfigSource::Kind::kNone) {
    o.incumbents = std::make_shared<TunedConfigLookup>(incumbents, [](const std::string&) {});  // a new shape: no incumbent
  }
  if (a.cold_max_m > 0) o.versions["timing"] = fmt::format("cold up to M = {}, graph above", a.cold_max_m);
  if (a.bench_timing) o.versions["replays"] = "bench gemm's: 25 of 10 ms after 3 warm-up replays";
  if (a.b_is_weight) o.versions["b_is_weight"] = "candidates called as linear() calls them: B streams before the programmatic wait";
  o.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  std::size_t batches = 0;
  for (const auto& item : o.items) batches += item.batch_sizes.size();
  fmt::print("# fp8kit tune: {} (N, K) x {} batch sizes = {} searches on {} GPU(s), scales {}, out {}, save path {}{}\n",
             o.items.size(), o.items.front().batch_sizes.size(), batches, o.workers.size(),
             tuned_scales_tag(scales), a.out_dtype, o.save_path.string(),
             a.resume ? " (resuming)" : "");
  const tune::TuneReport report = tune::run_tune(o);
  fmt::print("\n{}{}", tune::render_tune_summary(report), tune::render_device_totals(report));
  // Searching time over wall time: how many workers were kept busy (the multi-GPU speed-up's bound).
  fmt::print("# {:.1f} s, {:.1f} s of searches ({:.2f} workers busy), {} worker restart(s)\n", report.seconds,
             report.worker_seconds(), report.seconds > 0 ? report.worker_seconds() / report.seconds : 0.0,
             report.worker_restarts);
  int failed = 0;
  for (const auto& item : report.items) failed += item.status == tune::TuneItemOutcome::Status::kFailed;
  if (failed > 0) throw Error(ErrorKind::kCheckFailed, fmt::format("tune: {} shape(s) FAILED (see above)", failed));
  if (report.stopped_by_budget) {
    fmt::print("# stopped by --time-budget before finishing; run again with --resume to go on\n");
  }
}

void run_worker(const std::string& fake, const tune::GpuMeasurerOptions& options) {
  std::unique_ptr<tune::CandidateMeasurer> measurer;
  if (fake.empty()) measurer = tune::make_gpu_measurer(options);
  else measurer = std::make_unique<tune::FakeMeasurer>(tune::parse_fake_worker_spec(fake));
  const int protocol = tune::take_protocol_stdout();
  const int rc = tune::serve_tune_worker(0, protocol, *measurer);
  if (rc != 0) {
    std::fflush(nullptr);
    std::_Exit(rc);  // the tuner already has the reason (the hello); no second message
  }
}

}  // namespace

void add_tune_command(CLI::App& app) {
  auto a = std::make_shared<TuneArgs>();
  CLI::App* cmd = app.add_subcommand("tune", "tune the own FP8 GEMM per (N, K, M) on this GPU; JSON configs");
  cmd->add_option("--tp-size", a->tp_size, "tensor-parallel size of --model")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--input-type", a->input_type, "input type (fp8)")->capture_default_str();
  cmd->add_option("--out-dtype", a->out_dtype, "output dtype: bfloat16, float16, float32")->capture_default_str();
  cmd->add_option("--block-n", a->block_n, "weight block N (128)")->capture_default_str();
  cmd->add_option("--block-k", a->block_k, "weight block K (128)")->capture_default_str();
  add_scale_pair_flags(*cmd, a->scales);
  cmd->add_option("--batch-size", a->batch_size, "tune this one batch size M")->check(CLI::PositiveNumber);
  cmd->add_option("--batch-sizes", a->batch_sizes, "batch sizes M")->capture_default_str();
  auto* model = cmd->add_option("--model", a->model, "model whose shapes at --tp-size are tuned")->capture_default_str();
  cmd->add_option("--shapes", a->shapes, "N,K pairs to tune instead of a model's")->excludes(model);
  cmd->add_option("--save-path", a->save_path, "folder of the JSON configs (and the resume state)")->capture_default_str();
  auto* gpus = cmd->add_option("--gpus", a->gpus, "GPU ordinals to use (default: all)")->delimiter(',');
  cmd->add_option("--ray", a->ray, "tune on every GPU of the Ray cluster at this address (HOST:PORT; needs $FP8KIT_RAY_PYTHON "
                                   "or python3 with fp8kit and ray)")
      ->excludes(gpus);
  cmd->add_option("--ray-resource", a->ray_resource, "testing: one unit of this custom resource per worker, not a GPU")
      ->group("");
  cmd->add_flag("--resume", a->resume, "keep what earlier runs into --save-path measured; skip finished shapes");
  cmd->add_option("--time-budget", a->time_budget, "stop cleanly, resumably, before this long (540, 9m, 1h)");
  cmd->add_option("--cold-max-m", a->cold_max_m,
                  "time batch sizes up to this M cold: inputs rotated past twice the L2, so weights come from HBM "
                  "as in a decode step (bench gemm --timing cold); 0: graph timing at every M, as vLLM's tuner times")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--config-dir", a->config_dir,
                  "tuned configs whose config for each (N, K, M) is measured first, so a re-tune never ships a slower one, "
                  "or none (default: FP8KIT_CONFIG_DIR, else the shipped ones)")
      ->type_name("DIR");
  cmd->add_option("--device-name", a->device_name, "tune only on GPUs of this name (as `fp8kit info` prints it)");
  cmd->add_option("--fake-worker", a->fake_worker, "testing: a GPU-less worker (crash=,hang=,fail=,sleep-ms=,device=)")
      ->group("");
  cmd->add_option("--candidate-timeout", a->candidate_timeout_s, "seconds before a silent worker is replaced")
      ->group("");
  cmd->add_option("--max-candidates", a->max_candidates, "measurements per (N, K, M)")->group("")->check(CLI::PositiveNumber);
  cmd->add_option("--coarse-tiles", a->coarse_tiles, "tiles of the coarse pass")->group("")->check(CLI::PositiveNumber);
  cmd->add_flag("--exhaustive", a->exhaustive, "measure every valid config (checks the search)")->group("");
  cmd->add_flag("--bench-timing", a->bench_timing,
                "time each candidate as bench gemm does (sustained replays, about 5x the time) instead of 2 ms bursts")
      ->group("");
  cmd->add_flag("--b-is-weight", a->b_is_weight,
                "call each candidate as linear() does (ScaledMmOptions::b_is_weight): the weight streams before the "
                "programmatic wait, as in serving");
  cmd->callback([a] { run_tune_command(*a); });

  auto fake = std::make_shared<std::string>();
  auto options = std::make_shared<tune::GpuMeasurerOptions>();
  CLI::App* worker = app.add_subcommand("tune-worker", "internal: one GPU's measuring process of `fp8kit tune`");
  worker->group("");
  worker->add_option("--fake", *fake, "measure nothing: the fake worker of the tests");
  worker->add_flag("--bench-timing", options->bench_timing, "time as bench gemm does");
  worker->add_flag("--b-is-weight", options->b_is_weight, "call candidates as linear() does");
  worker->callback([fake, options] { run_worker(*fake, *options); });
}

}  // namespace fp8kit::cli
