// The configurations of `fp8kit bench gemm` (the study of vLLM's benchmarks/kernels/bench_fp8_gemm.py,
// and more): providers (named as in that script), backends, model shapes deduplicated across models
// and TP sizes, and the runs (provider x backend) with their labels. Pure C++: tested without a GPU.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/timing.hpp"
#include "core/model_shapes.hpp"
#include "fp8kit/gemm.hpp"

namespace fp8kit::bench {

// A GEMM strategy as bench_fp8_gemm.py names it: "bf16", or "fp8-<w>-w-<a>-a" with an optional
// "-noquant" (activations quantized outside the timed region; without it the timed region is
// fp8kit::linear, dynamic quantization of the bf16 activations included).
struct GemmProvider {
  bool fp8 = true;  // false: the BF16 baseline (fp8kit::mm)
  ScaleModeA act = ScaleModeA::kTensor;
  ScaleModeB weight = ScaleModeB::kTensor;
  bool noquant = false;

  std::string name() const;  // "fp8-channel-w-token-a-noquant"
  bool operator==(const GemmProvider&) const = default;
};

std::vector<std::string> provider_names();  // every provider, in a stable order (11 names)
// Throws fp8kit::Error(kInvalidArgument) naming the value and listing the known names.
GemmProvider parse_provider(std::string_view name);
// bench_fp8_gemm.py's defaults (bf16, tensor/tensor and channel/token, each with and without
// -noquant) and the block-scaled pair that serving's DeepSeek-style models use, likewise.
std::vector<GemmProvider> default_providers();

// Benchmark backends: cublaslt, reference, fp8kit (auto is refused: a benchmark names what it measures).
GemmBackend parse_bench_backend(std::string_view name);

enum class ActDist {
  kNormal,    // N(0, 1)
  kOutliers,  // N(0, 1) with a few channels (kOutlierChannelFraction, at least one) scaled by kOutlierGain,
              // as real LLM activations have
};
constexpr double kOutlierChannelFraction = 1.0 / 256;
constexpr float kOutlierGain = 50.0f;
std::string_view act_dist_name(ActDist d);  // "normal", "outliers"
ActDist parse_act_dist(std::string_view name);  // throws naming --act-dist

struct GemmSuiteOptions {
  std::vector<std::string> models{"meta-llama/Llama-3.1-8B-Instruct"};  // table names or config.json paths
  std::vector<int> tp_sizes{1};
  std::vector<LinearShape> shapes;  // (N, K) pairs measured instead of the models' when given
  std::vector<std::int64_t> batch_sizes{1, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  std::vector<GemmProvider> providers = default_providers();
  std::vector<GemmBackend> backends{GemmBackend::kCublasLt, GemmBackend::kFp8kit};  // the vendor and the own kernel
  bool fast_accum = false;  // cuBLASLt fast accumulation for the non-block FP8 providers
  // Backend fp8kit's -noquant rows call scaled_mm with b_is_weight, as a model's layers would:
  // each call's weight streams while the call before it finishes (its A still waits for it).
  bool b_is_weight = false;
  // Cold timing rotates the weights, their scales and the output but keeps the activations (and
  // their scales) in one set, in L2 as the kernel that wrote them leaves them in serving.
  bool hot_activations = false;
  ActDist act_dist = ActDist::kNormal;
  TimingMode timing = TimingMode::kGraph;
  std::filesystem::path out_dir = "bench_results";
  std::optional<std::uint64_t> seed;  // fresh (and printed) when absent
};

// Throws fp8kit::Error(kInvalidArgument) naming the flag (--batch-sizes, --tp-sizes, --providers,
// --backends, --models) for empty lists, duplicates and out-of-range values. Models are checked by
// expand_shapes (an unknown model or a bad config.json is named there).
void validate_options(const GemmSuiteOptions& options);

// One (N, K) to measure and where it comes from.
struct GemmShapeEntry {
  std::int64_t n = 0, k = 0;
  std::vector<std::string> models;  // in order of first appearance, no duplicates
  std::vector<int> tps;             // likewise
  std::vector<std::string> layers;  // likewise

  std::string models_text() const;  // "a,b"
  std::string tps_text() const;     // "1,2"
  std::string layers_text() const;  // "qkv_proj,o_proj"
};

// The --shapes pairs when given (model "--shapes", layer "given"), else the shapes of every model at
// every TP (model_shapes), in order of first appearance, an (N, K) seen
// before merged into its first entry. Throws what model_shapes throws (kInvalidArgument naming the
// model or file), prefixed with --models.
std::vector<GemmShapeEntry> expand_shapes(const std::vector<std::string>& models, const std::vector<int>& tps);

// One provider on one backend.
struct GemmRun {
  GemmProvider provider;
  GemmBackend backend = GemmBackend::kCublasLt;
  std::string label;  // provider name with one backend, "provider@backend" with several
};

struct SkippedRun {
  std::string label;
  std::string reason;
};

struct GemmPlan {
  std::vector<GemmShapeEntry> shapes;
  std::vector<GemmRun> runs;         // providers x backends, in the order given (provider major)
  std::vector<SkippedRun> skipped;   // pairs the backend does not support
};

// validate_options, expand_shapes, then providers x backends; a pair the backend does not support
// (bf16 off cuBLASLt, backend_supports false) is skipped with a note.
GemmPlan make_plan(const GemmSuiteOptions& options);

// Why a run cannot measure a shape (block scales need K % 128 == 0; every GEMM needs N and K
// multiples of 16), or nullopt.
std::optional<std::string> shape_skip_reason(const GemmRun& run, std::int64_t n, std::int64_t k);

}  // namespace fp8kit::bench
