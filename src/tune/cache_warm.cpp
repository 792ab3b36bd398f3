#include "tune/cache_warm.hpp"

#include <set>
#include <string>

namespace fp8kit::tune {

std::vector<WarmKernel> kernels_to_warm(const std::vector<NK>& shapes, const std::vector<std::int64_t>& batch_sizes,
                                        const std::function<std::optional<GemmConfig>(const GemmShape&)>& tuned,
                                        const std::function<GemmConfig(const GemmShape&)>& fallback) {
  std::vector<WarmKernel> out;
  std::set<std::string> seen;
  for (const NK& s : shapes) {
    for (std::int64_t m : batch_sizes) {
      const GemmShape shape{m, s.n, s.k};
      const std::optional<GemmConfig> t = tuned(shape);
      WarmKernel k{t ? *t : fallback(shape), t.has_value()};
      if (seen.insert(kernel_name(k.config)).second) out.push_back(k);
    }
  }
  return out;
}

}  // namespace fp8kit::tune
