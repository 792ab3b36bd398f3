// The configurations of `fp8kit bench quant` (the study of vLLM's bench_per_token_quant_fp8.py):
// options, their validation, expansion into (M, H, group shape, scale layout) configurations, and
// the bytes each one must move. Pure C++: tested without a GPU.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/timing.hpp"
#include "fp8kit/quant.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {

// Group-size values as the flag takes them.
constexpr int kGroupPerTensor = 0;
constexpr int kGroupPerToken = -1;

struct QuantSuiteOptions {
  // Also verify an adversarial input and the output left by the timed calls (see quant_suite.hpp).
  bool check = false;
  DType dtype = DType::kBFloat16;
  std::vector<std::int64_t> batch_sizes{1, 16, 128, 512, 1024};
  std::vector<std::int64_t> hidden_sizes{896, 1024, 2048, 4096, 7168};
  std::vector<int> group_sizes{kGroupPerTensor, kGroupPerToken, 64, 128};
  // Per-group shapes also run both column-major scale layouts (row-major always runs).
  bool column_major = true;
  std::vector<QuantImpl> impls{QuantImpl::kNaive, QuantImpl::kFp8kit};
  // fp8kit's programmatic dependent launch (QuantizeOptions::programmatic_launch); false: plain
  // launches, to see what the overlap buys.
  bool programmatic_launch = true;
  TimingMode timing = TimingMode::kGraph;
  std::filesystem::path out_dir = "bench_results";
  std::optional<std::uint64_t> seed;  // fresh (and printed) when absent
};

// Throws fp8kit::Error(kInvalidArgument) naming the flag (--batch-sizes, --group-sizes, ...).
void validate_options(const QuantSuiteOptions& options);

struct QuantConfig {
  std::int64_t m = 0;   // tokens (batch size)
  std::int64_t h = 0;   // hidden size
  int group_size = 0;   // the flag's value: 0 per-tensor, -1 per-token, N 1xN groups
  QuantSpec spec;       // dynamic scales, as the study measures

  std::string group_label() const;   // "tensor", "token", "1x128"
  std::string layout_label() const;  // "-" for tensor and token scales, else scale_layout_name()
  bool operator==(const QuantConfig& other) const;
};

// Configurations that cannot run (H % G != 0), one note per (H, group size).
struct SkippedConfigs {
  std::int64_t h = 0;
  int group_size = 0;
  int count = 0;  // configurations skipped (batch sizes x layouts)
  std::string reason;
};

struct QuantPlan {
  std::vector<QuantConfig> configs;  // order: H, M, group size, layout (row, col, col-tma)
  std::vector<SkippedConfigs> skipped;
};

QuantSpec spec_for_group_size(int group_size, ScaleLayout layout);
QuantPlan expand_configs(const QuantSuiteOptions& options);

// Bytes a quantization must move. `moved` is the useful traffic the GB/s column reports: one read
// of x, the FP8 write and the scale buffer (padding included, it is written). `floor` is the least
// any kernel can move: the same, except dynamic per-tensor, whose scale depends on the whole tensor
// before any value can be cast, so it must read x twice.
struct QuantBytes {
  std::int64_t moved = 0;
  std::int64_t floor = 0;
};
QuantBytes quant_bytes(const QuantConfig& config, DType input);

}  // namespace fp8kit::bench
