#include "tune/tune_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/gemm_config.hpp"
#include "core/gemm_config_json.hpp"
#include "core/model_shapes.hpp"
#include "core/tuned_config_file.hpp"

namespace fp8kit::tune {

std::vector<std::int64_t> default_tune_batch_sizes() {
  return {1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 1536, 2048, 3072, 4096};
}

NK parse_shape_arg(std::string_view text) {
  const LinearShape s = fp8kit::parse_shape_arg(text);
  return {s.n, s.k};
}

std::vector<TuneWorkItem> plan_tune_work(const std::vector<NK>& shapes, DType out, std::vector<std::int64_t> batch_sizes) {
  (void)tuned_out_name(out);  // throws for a dtype the GEMM cannot write
  if (shapes.empty()) throw_invalid_argument("tune: no shapes to tune");
  if (batch_sizes.empty()) throw_invalid_argument("tune: no batch sizes");
  std::sort(batch_sizes.begin(), batch_sizes.end());
  batch_sizes.erase(std::unique(batch_sizes.begin(), batch_sizes.end()), batch_sizes.end());
  if (batch_sizes.front() < 1) throw_invalid_argument(fmt::format("tune: batch size {} is not positive", batch_sizes.front()));
  std::vector<TuneWorkItem> items;
  for (const NK& s : shapes) {
    if (s.n % 16 != 0 || s.k % kGemmBlockK != 0) {
      throw_invalid_argument(fmt::format("tune: shape N={}, K={}: N must be a multiple of 16 and K of 128", s.n, s.k));
    }
    const bool seen = std::any_of(items.begin(), items.end(), [&](const TuneWorkItem& i) { return i.n == s.n && i.k == s.k; });
    if (!seen) items.push_back({s.n, s.k, out, batch_sizes});
  }
  return items;
}

double tune_search_cost(const TuneWorkItem& item, std::int64_t m) {
  return 1.0 + static_cast<double>(m) * static_cast<double>(item.n) * static_cast<double>(item.k) / 5e10;
}

std::filesystem::path journal_path(const std::filesystem::path& save_path, std::int64_t n, std::int64_t k, DType out,
                                   std::string_view device_name, TunedScales scales) {
  const std::filesystem::path name = tuned_config_file_name(n, k, out, device_name, scales);
  return save_path / ".fp8kit-tune-state" / name.stem().concat(".jsonl");
}

}  // namespace fp8kit::tune
