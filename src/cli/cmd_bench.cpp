// fp8kit bench <suite>: the benchmark suites (DESIGN.md §7). Each suite is a subcommand of `bench`
// with its own flags; the flags every suite shares (--timing, --out, --seed) come from one helper,
// so `bench gemm` adds a function beside add_quant_command and nothing else changes.
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/gemm_suite.hpp"
#include "bench/quant_suite.hpp"
#include "cli/commands.hpp"
#include "core/model_shapes.hpp"
#include "core/tuned_configs.hpp"
#include "fp8kit/gemm.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::cli {
namespace {

struct CommonBenchArgs {
  std::string timing = "graph";
  std::string out = "bench_results";
  std::string seed;  // text: CLI11 would wrap "-3" into a huge unsigned value
};

void add_common_flags(CLI::App& cmd, CommonBenchArgs& args) {
  cmd.add_option("--timing", args.timing,
                 "graph: CUDA-graph replay on the same buffers; cold: rotate input sets larger than 2x L2")
      ->capture_default_str();
  cmd.add_option("--out", args.out, "folder for the JSON lines and CSV results")->type_name("DIR")->capture_default_str();
  cmd.add_option("--seed", args.seed, "seed of the random inputs, 0 to 2^64-1 (default: fresh, and printed)");
}

std::optional<std::uint64_t> parse_seed(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw_invalid_argument(fmt::format("--seed: '{}' is not an integer from 0 to 2^64-1", text));
  }
  return seed;
}

struct QuantArgs {
  CommonBenchArgs common;
  bool check = false;
  std::string dtype = "bfloat16";
  std::vector<std::int64_t> batch_sizes = bench::QuantSuiteOptions{}.batch_sizes;
  std::vector<std::int64_t> hidden_sizes = bench::QuantSuiteOptions{}.hidden_sizes;
  std::vector<int> group_sizes = bench::QuantSuiteOptions{}.group_sizes;
  bool no_column_major = false;
  bool no_pdl = false;
  std::vector<std::string> impls{"naive", "fp8kit"};
};

bench::QuantSuiteOptions quant_options(const QuantArgs& a) {
  bench::QuantSuiteOptions o;
  o.check = a.check;
  o.dtype = parse_flag("--dtype", [&] { return parse_dtype(a.dtype); });
  o.batch_sizes = a.batch_sizes;
  o.hidden_sizes = a.hidden_sizes;
  o.group_sizes = a.group_sizes;
  o.column_major = !a.no_column_major;
  o.programmatic_launch = !a.no_pdl;
  o.impls.clear();
  for (const std::string& name : a.impls) o.impls.push_back(parse_flag("--impl", [&] { return parse_quant_impl(name); }));
  o.timing = bench::parse_timing_mode(a.common.timing);  // its message names --timing
  o.out_dir = a.common.out;
  o.seed = parse_seed(a.common.seed);
  bench::validate_options(o);  // bad usage (exit 2) before the GPU check (exit 3)
  return o;
}

void run_quant(const QuantArgs& args) {
  const bench::QuantSuiteOptions options = quant_options(args);
  const bench::QuantSuiteResult result = bench::run_quant_suite(options, command_line());
  if (result.failed > 0) {
    throw Error(ErrorKind::kCheckFailed,
                fmt::format("bench quant: {} of {} measurements FAILED verification (see the table and {})",
                            result.failed, result.rows.size(), result.files.jsonl.string()));
  }
}

void add_quant_command(CLI::App& bench) {
  auto args = std::make_shared<QuantArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "quant", "activation quantization, naive vs fp8kit: µs, GB/s, % of copy bandwidth (vLLM's bench_per_token_quant_fp8.py)");
  cmd->add_flag("--check", args->check,
                "also verify every implementation on an adversarial input and after timing (the random input is always verified)");
  cmd->add_option("--dtype", args->dtype, "input dtype: half, bfloat16 or float")->capture_default_str();
  cmd->add_option("--batch-sizes", args->batch_sizes, "tokens M")->capture_default_str();
  cmd->add_option("--hidden-sizes", args->hidden_sizes, "hidden sizes H")->capture_default_str();
  cmd->add_option("--group-sizes", args->group_sizes, "0 = per-tensor, -1 = per-token, G = 1xG groups (32, 64, 128)")
      ->capture_default_str();
  cmd->add_flag("--no-column-major", args->no_column_major,
                "skip the column-major scale layouts of per-group shapes (row-major only)");
  cmd->add_flag("--no-pdl", args->no_pdl,
                "launch fp8kit's kernels plainly, without programmatic dependent launch (which overlaps a kernel's "
                "launch with the previous kernel)");
  cmd->add_option("--impl", args->impls, "implementations, comma-separated: naive, fp8kit")
      ->delimiter(',')
      ->capture_default_str();
  add_common_flags(*cmd, args->common);
  cmd->callback([args] { run_quant(*args); });
}


struct GemmArgs {
  CommonBenchArgs common;
  std::vector<std::string> models = bench::GemmSuiteOptions{}.models;
  std::vector<int> tp_sizes = bench::GemmSuiteOptions{}.tp_sizes;
  std::vector<std::string> shapes;
  std::vector<std::int64_t> batch_sizes = bench::GemmSuiteOptions{}.batch_sizes;
  std::vector<std::string> providers = [] {
    std::vector<std::string> names;
    for (const bench::GemmProvider& p : bench::default_providers()) names.push_back(p.name());
    return names;
  }();
  std::vector<std::string> backends{"cublaslt", "fp8kit"};
  std::string act_dist = "normal";
  bool fast_accum = false;
  bool b_is_weight = false;
  bool hot_activations = false;
  std::string config_dir;  // tuned configs of backend fp8kit, "none", or "" (FP8KIT_CONFIG_DIR, else shipped)
};

void run_gemm(const GemmArgs& a) {
  if (const auto source = config_dir_flag_source(a.config_dir)) {
    set_gemm_config_dir(source->kind == TunedConfigSource::Kind::kNone ? std::nullopt : std::optional(source->path));
  }
  bench::GemmSuiteOptions o;
  o.models = a.models;
  o.tp_sizes = a.tp_sizes;
  for (const std::string& nk : a.shapes) o.shapes.push_back(parse_shape_arg(nk));
  o.batch_sizes = a.batch_sizes;
  o.providers.clear();
  for (const std::string& name : a.providers) o.providers.push_back(parse_flag("--providers", [&] { return bench::parse_provider(name); }));
  o.backends.clear();
  for (const std::string& name : a.backends) o.backends.push_back(parse_flag("--backends", [&] { return bench::parse_bench_backend(name); }));
  o.act_dist = bench::parse_act_dist(a.act_dist);  // its message names --act-dist
  o.fast_accum = a.fast_accum;
  o.b_is_weight = a.b_is_weight;
  o.hot_activations = a.hot_activations;
  o.timing = bench::parse_timing_mode(a.common.timing);
  o.out_dir = a.common.out;
  o.seed = parse_seed(a.common.seed);
  const bench::GemmSuiteResult result = bench::run_gemm_suite(o, command_line());  // flags and models first (2), then the GPU (3)
  if (result.failed > 0) {
    throw Error(ErrorKind::kCheckFailed, fmt::format("bench gemm: {} of {} measurements FAILED verification (see the tables and {})",
                                                     result.failed, result.rows.size(), result.files.jsonl.string()));
  }
}

void add_gemm_command(CLI::App& bench) {
  auto args = std::make_shared<GemmArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "gemm", "BF16 vs every FP8 scaling strategy on model shapes: TFLOP/s and relative error (vLLM's bench_fp8_gemm.py)");
  cmd->add_option("--models", args->models, "model names (see `fp8kit shapes --list`) or config.json paths")->capture_default_str();
  cmd->add_option("--tp-sizes", args->tp_sizes, "tensor-parallel sizes")->capture_default_str();
  cmd->add_option("--shapes", args->shapes, "N,K pairs to measure instead of the models' shapes");
  cmd->add_option("--batch-sizes", args->batch_sizes, "tokens M")->capture_default_str();
  cmd->add_option("--providers", args->providers, "comma-separated: bf16, fp8-{tensor,channel}-w-{tensor,token}-a, fp8-block-w-group-a, each also -noquant")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--backends", args->backends, "comma-separated: cublaslt, reference, fp8kit")->delimiter(',')->capture_default_str();
  cmd->add_option("--act-dist", args->act_dist, "activations: normal, or outliers (a few channels x50)")->capture_default_str();
  cmd->add_flag("--fast-accum", args->fast_accum, "fast accumulation for the non-block FP8 providers (cublaslt, fp8kit)");
  cmd->add_flag("--b-is-weight", args->b_is_weight,
                "fp8kit's -noquant rows pass ScaledMmOptions::b_is_weight: B streams before the programmatic "
                "wait, as in linear()");
  cmd->add_flag("--hot-activations", args->hot_activations,
                "with --timing cold: only weights, their scales and the output rotate; activations stay in L2, "
                "as in serving");
  cmd->add_option("--config-dir", args->config_dir, 
                  "fp8kit tune's files for backend fp8kit, or none (default: FP8KIT_CONFIG_DIR, else this GPU's shipped configs)")
      ->type_name("DIR");
  add_common_flags(*cmd, args->common);
  cmd->callback([args] { run_gemm(*args); });
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "benchmark suites: verified, then timed; results as JSON lines + CSV");
  bench->require_subcommand(1);
  add_quant_command(*bench);
  add_gemm_command(*bench);
}

}  // namespace fp8kit::cli
