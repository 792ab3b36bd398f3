// What `fp8kit tune` measures: one work item per (N, K, out dtype) covering every batch size, and
// the names of the files it writes. A work item is the unit that one GPU tunes and writes at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/tuned_config_file.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::tune {

// 1 2 4 8 16 24 32 48 64 96 128 256 512 1024 1536 2048 3072 4096 (vLLM's tuning list).
std::vector<std::int64_t> default_tune_batch_sizes();
inline constexpr std::string_view kDefaultTuneModel = "deepseek-ai/DeepSeek-V3";

struct TuneWorkItem {
  std::int64_t n = 0, k = 0;
  DType out = DType::kBFloat16;
  std::vector<std::int64_t> batch_sizes;  // ascending, unique
  bool operator==(const TuneWorkItem&) const = default;
};

struct NK {
  std::int64_t n = 0, k = 0;
  bool operator==(const NK&) const = default;
};

// "7168,2048" -> {7168, 2048}; throws kInvalidArgument naming the text.
NK parse_shape_arg(std::string_view text);

// One item per distinct (N, K) in first-seen order; batch sizes sorted and deduplicated. Throws
// kInvalidArgument for an empty list, M < 1, N % 16, K % 128 (the block-scaled GEMM's rules).
std::vector<TuneWorkItem> plan_tune_work(const std::vector<NK>& shapes, DType out,
                                         std::vector<std::int64_t> batch_sizes);

// A batch size's search time, in units of its fixed part (compiles, the default, the climb's
// launches: about 1.5 s on an H200), growing with the GEMM's work M N K. Measured in issue 17's run
// (session 16): 24576 x 7168 took 44 s over 6 batch sizes, 2112 x 7168 and 576 x 7168 9-11 s. It
// orders the tuner's units (longest first) and weighs its ETA.
double tune_search_cost(const TuneWorkItem& item, std::int64_t m);

// Where a work item's resume journal lives: <save>/.fp8kit-tune-state/<file stem>.jsonl.
std::filesystem::path journal_path(const std::filesystem::path& save_path, std::int64_t n, std::int64_t k, DType out,
                                   std::string_view device_name, TunedScales scales = {});

}  // namespace fp8kit::tune
