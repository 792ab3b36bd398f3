#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "fp8kit/types.hpp"

namespace fp8kit {

double percentile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw_invalid_argument("percentile: no samples");
  if (!(q >= 0.0 && q <= 1.0)) throw_invalid_argument(fmt::format("percentile: q = {} is not in [0, 1]", q));
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  if (frac == 0.0 || sorted[lo] == sorted[hi]) return sorted[lo];  // also keeps infinities exact
  // a + (b - a) * t is exact at t = 0 and never leaves [a, b] for finite samples.
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

Summary summarize(std::vector<double> samples) {
  if (samples.empty()) throw_invalid_argument("summarize: no samples");
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (std::isnan(samples[i])) throw_invalid_argument(fmt::format("summarize: sample {} is NaN", i));
  }
  std::sort(samples.begin(), samples.end());
  Summary s;
  s.count = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = percentile_sorted(samples, 0.5);
  s.p20 = percentile_sorted(samples, 0.2);
  s.p80 = percentile_sorted(samples, 0.8);
  return s;
}

double geomean(std::span<const double> values) {
  if (values.empty()) throw_invalid_argument("geomean: no values");
  double log_sum = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!(v > 0.0 && std::isfinite(v))) {
      throw_invalid_argument(fmt::format("geomean: value {} is {}; it must be positive and finite", i, v));
    }
    log_sum += std::log(v);
  }
  return std::exp(log_sum / static_cast<double>(values.size()));
}

}  // namespace fp8kit
