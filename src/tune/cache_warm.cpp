#include "tune/cache_warm.hpp"

#include <set>
#include <string>

namespace fp8kit::tune {

std::vector<ShapeChoice> configs_by_shape(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                          const TunedChoice& tuned, const HeuristicChoice& fallback) {
  std::vector<ShapeChoice> out;
  for (const NK& s : shapes) {
    for (std::int64_t m : batch_sizes) {
      const GemmShape shape{m, s.n, s.k};
      const std::optional<GemmConfig> t = tuned(shape);
      out.push_back({shape, {t ? *t : fallback(shape), t.has_value()}});
    }
  }
  return out;
}

std::vector<WarmKernel> kernels_to_warm(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                        const TunedChoice& tuned, const HeuristicChoice& fallback) {
  std::vector<WarmKernel> out;
  std::set<std::string> seen;
  for (const ShapeChoice& c : configs_by_shape(shapes, batch_sizes, tuned, fallback)) {
    if (seen.insert(kernel_name(c.kernel.config)).second) out.push_back(c.kernel);
  }
  return out;
}

}  // namespace fp8kit::tune
