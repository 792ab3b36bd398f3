// Coarse-to-fine search for the fastest config of one (N, K, M), driven by measurements:
//   coarse: the cost model's best variant of each of its `coarse_tiles` best (block_m, block_n)
//           tiles;
//   fine:   hill climbing from the `climb_width` fastest measured configs over their neighbours
//           (one knob moved to the nearest listed value above or below; a tile step also at the
//           split that keeps the CTA count), until every neighbour of the fastest few is measured
//           or the budget of measurements is spent. A width above one keeps a single noisy or
//           unlucky neighbour from ending the climb early.
// The search is a pure function of the candidates and the recorded results, so a resumed tune that
// records its journal first replays the same path and measures only what is missing.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "core/gemm_config.hpp"
#include "core/gemm_cost_model.hpp"

namespace fp8kit::tune {

struct SearchOptions {
  int coarse_tiles = 12;
  int max_candidates = 40;  // measurements per (N, K, M), failed ones included
  int climb_width = 4;  // climb from the first of the 4 fastest that has unmeasured neighbours
  // Measure every candidate (ignores the budget): the check that the search misses nothing.
  bool exhaustive = false;
  // After the climb, the fastest `recheck_leaders` within `recheck_window` of the best (at least the
  // best) are measured `recheck_rounds` more times, round-robin, and count with their median: one
  // fast outlier no longer picks the config. (Session 16: a 5 us kernel's one-shot graph timing spread 20% between
  // runs, and a two-GPU tune chose a config 19% slower than the one-GPU run's.)
  int recheck_leaders = 3;
  double recheck_window = 0.05;
  int recheck_rounds = 2;
};

struct MeasuredConfig {
  GemmConfig config;
  double us = 0;
};

class CandidateSearch {
 public:
  // `candidates`: the configs valid for `shape` (the declared space, pruned by the rules).
  CandidateSearch(std::vector<GemmConfig> candidates, const GemmShape& shape, const DeviceModel& device,
                  const SearchOptions& options);

  // Configs to measure next (none recorded yet); empty when the search is over.
  std::vector<GemmConfig> next_batch();
  // A measured time in µs, or nullopt for a failed candidate (never chosen). Any config may be
  // recorded (the default config, journal entries); the last record of a config wins.
  void record(const GemmConfig& config, std::optional<double> us);

  std::optional<MeasuredConfig> best() const;
  std::vector<MeasuredConfig> fastest(int count) const;  // fastest first
  int measured() const { return static_cast<int>(results_.size()); }
  int failed() const;
  const std::vector<GemmConfig>& ranked() const { return ranked_; }
  const std::vector<GemmConfig>& coarse() const { return coarse_; }
  // The neighbours hill climbing looks at from `config`, in a fixed order (failed configs skipped).
  std::vector<GemmConfig> neighbours(const GemmConfig& config) const;
  bool recorded(const GemmConfig& c) const { return results_.contains(c); }

 private:
  bool failed(const GemmConfig& c) const;
  std::vector<GemmConfig> unrecorded(const std::vector<GemmConfig>& configs) const;
  std::optional<GemmConfig> closest_variant(int block_m, int block_n, const GemmConfig& from,
                                            bool keep_ctas = false) const;

  GemmShape shape_;
  std::vector<GemmConfig> ranked_;  // candidates, predicted fastest first
  std::vector<GemmConfig> coarse_;
  std::map<GemmConfig, std::optional<double>> results_;
  std::map<GemmConfig, std::size_t> rank_of_;
  SearchOptions options_;
};

}  // namespace fp8kit::tune
