// Summary statistics for benchmark samples (DESIGN.md §7: median with p20/p80, geometric means).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace fp8kit {

struct Summary {
  double median = 0.0;
  double p20 = 0.0;
  double p80 = 0.0;
  double min = 0.0;
  double max = 0.0;
  std::size_t count = 0;
};

// Percentile q in [0, 1] of sorted, non-empty samples, interpolating linearly between order
// statistics (numpy's default "linear" method), so our numbers match the vLLM scripts'.
double percentile_sorted(std::span<const double> sorted, double q);

// Throws kInvalidArgument on empty input or a NaN sample (a NaN would make the sort meaningless).
Summary summarize(std::vector<double> samples);

// exp(mean(log x)). Throws kInvalidArgument on empty input or a value that is not positive and
// finite: a geometric mean over a zero or failed measurement has no meaning.
double geomean(std::span<const double> values);

}  // namespace fp8kit
