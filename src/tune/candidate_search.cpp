#include "tune/candidate_search.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <tuple>
#include <utility>

namespace fp8kit::tune {
namespace {

using Knob = int GemmConfig::*;
constexpr Knob kKnobs[] = {&GemmConfig::stages,       &GemmConfig::consumer_warpgroups, &GemmConfig::cluster_m,
                           &GemmConfig::cluster_n,    &GemmConfig::group_size_m,        &GemmConfig::split_k,
                           &GemmConfig::split_cluster, &GemmConfig::block_n,            &GemmConfig::block_m};

bool same_except(const GemmConfig& a, const GemmConfig& b, Knob knob) {
  GemmConfig x = a;
  x.*knob = b.*knob;
  return x == b;
}

}  // namespace

CandidateSearch::CandidateSearch(std::vector<GemmConfig> candidates, const GemmShape& shape, const DeviceModel& device,
                                 const SearchOptions& options)
    : shape_(shape), ranked_(rank_by_cost(std::move(candidates), shape, device)), options_(options) {
  for (std::size_t i = 0; i < ranked_.size(); ++i) rank_of_.emplace(ranked_[i], i);
  std::set<std::pair<int, int>> tiles;
  for (const GemmConfig& c : ranked_) {
    if (static_cast<int>(coarse_.size()) >= options_.coarse_tiles) break;
    if (tiles.emplace(c.block_m, c.block_n).second) coarse_.push_back(c);  // first seen = model's best variant
  }
}

std::vector<GemmConfig> CandidateSearch::unrecorded(const std::vector<GemmConfig>& configs) const {
  std::vector<GemmConfig> out;
  for (const GemmConfig& c : configs) {
    if (!recorded(c) && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

// The variant of tile (block_m, block_n) nearest to `from`: the same cluster, warpgroups and
// rasterization where valid, then the nearest ring depth, then the model's order. Taking the
// model's favourite variant instead loses what the climb learnt: a tile seen only in a variant
// that measures slower (in 2026-11 the model's 2-CTA clusters on short K, 20% slower) looks worse
// than it is. keep_ctas: first the split whose CTA count is nearest to `from`'s, so that a wider
// tile keeps the SMs streaming (decode: m16n96 split 5 -> m16n112 split 6 at 2112 x 7168, M = 16),
// a compound move that one knob at a time reaches only through a slower config.
std::optional<GemmConfig> CandidateSearch::closest_variant(int block_m, int block_n, const GemmConfig& from,
                                                           bool keep_ctas) const {
  const std::int64_t from_ctas = gemm_units(from, shape_);
  const auto distance = [&](const GemmConfig& c) {
    return std::tuple{keep_ctas ? std::abs(gemm_units(c, shape_) - from_ctas) : std::int64_t{0},
                      c.cluster_m != from.cluster_m || c.cluster_n != from.cluster_n,
                      c.consumer_warpgroups != from.consumer_warpgroups,
                      c.group_size_m != from.group_size_m, std::abs(c.stages - from.stages),
                      std::abs(c.split_k - from.split_k), c.split_cluster != from.split_cluster};
  };
  const GemmConfig* best = nullptr;
  for (const GemmConfig& c : ranked_) {  // model order: the first of equal distance wins
    if (c.block_m != block_m || c.block_n != block_n || failed(c)) continue;
    if (best == nullptr || distance(c) < distance(*best)) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

std::vector<GemmConfig> CandidateSearch::neighbours(const GemmConfig& from) const {
  std::vector<GemmConfig> out;
  for (Knob knob : kKnobs) {
    const GemmConfig* below = nullptr;
    const GemmConfig* above = nullptr;
    for (const GemmConfig& c : ranked_) {
      // A failed config does not block its direction: the climb steps over it.
      if (!same_except(from, c, knob) || c.*knob == from.*knob || failed(c)) continue;
      if (c.*knob < from.*knob && (below == nullptr || c.*knob > below->*knob)) below = &c;
      if (c.*knob > from.*knob && (above == nullptr || c.*knob < above->*knob)) above = &c;
    }
    for (const GemmConfig* n : {below, above}) {
      if (n != nullptr) out.push_back(*n);
    }
    // A tile neighbour may need other stages or warpgroups to be valid: where no one-knob step
    // reaches the nearest tile on a side, take its variant closest to `from`. On each side also its
    // variant that keeps the CTA count (another split_k; without split variants that is the closest
    // variant again, dropped below as a duplicate).
    if (knob != &GemmConfig::block_n && knob != &GemmConfig::block_m) continue;
    const bool along_n = knob == &GemmConfig::block_n;
    std::optional<int> lower, upper;
    for (const GemmConfig& c : ranked_) {
      if ((along_n ? c.block_m != from.block_m : c.block_n != from.block_n)) continue;
      const int v = c.*knob;
      if (v < from.*knob && (!lower || v > *lower)) lower = v;
      if (v > from.*knob && (!upper || v < *upper)) upper = v;
    }
    for (const auto& [v, one_knob] : {std::pair{lower, below}, std::pair{upper, above}}) {
      if (!v) continue;
      const int bm = along_n ? from.block_m : *v, bn = along_n ? *v : from.block_n;
      for (bool keep_ctas : {false, true}) {
        if (!keep_ctas && one_knob != nullptr) continue;
        if (const auto rep = closest_variant(bm, bn, from, keep_ctas)) out.push_back(*rep);
      }
    }
  }
  std::vector<GemmConfig> unique;
  for (const GemmConfig& c : out) {
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  }
  return unique;
}

std::vector<GemmConfig> CandidateSearch::next_batch() {
  if (options_.exhaustive) return unrecorded(ranked_);
  const int budget = options_.max_candidates - measured();
  if (budget <= 0) return {};
  std::vector<GemmConfig> batch = unrecorded(coarse_);
  if (batch.empty()) {
    const std::vector<MeasuredConfig> leaders = fastest(options_.climb_width);
    if (!leaders.empty()) {
      for (const MeasuredConfig& l : leaders) {
        for (const GemmConfig& c : unrecorded(neighbours(l.config))) {
          if (std::find(batch.begin(), batch.end(), c) == batch.end()) batch.push_back(c);
        }
        if (!batch.empty()) break;  // climb from the fastest that still has unmeasured neighbours
      }
    } else {
      // Everything so far failed: go on down the model's ranking.
      batch = unrecorded(ranked_);
      if (static_cast<int>(batch.size()) > options_.coarse_tiles) batch.resize(static_cast<std::size_t>(options_.coarse_tiles));
    }
  }
  if (static_cast<int>(batch.size()) > budget) batch.resize(static_cast<std::size_t>(budget));
  return batch;
}

void CandidateSearch::record(const GemmConfig& config, std::optional<double> us) { results_[config] = us; }

std::vector<MeasuredConfig> CandidateSearch::fastest(int count) const {
  std::vector<std::pair<std::size_t, MeasuredConfig>> ok;  // (model rank, result)
  for (const auto& [config, us] : results_) {
    if (!us) continue;
    const auto it = rank_of_.find(config);
    ok.emplace_back(it == rank_of_.end() ? ranked_.size() : it->second, MeasuredConfig{config, *us});
  }
  // Equal times: the model's favourite, then the config order (results_ is ordered).
  std::stable_sort(ok.begin(), ok.end(), [](const auto& a, const auto& b) {
    return a.second.us != b.second.us ? a.second.us < b.second.us : a.first < b.first;
  });
  std::vector<MeasuredConfig> out;
  for (std::size_t i = 0; i < ok.size() && static_cast<int>(i) < count; ++i) out.push_back(ok[i].second);
  return out;
}

std::optional<MeasuredConfig> CandidateSearch::best() const {
  const auto f = fastest(1);
  if (f.empty()) return std::nullopt;
  return f.front();
}

bool CandidateSearch::failed(const GemmConfig& c) const {
  const auto it = results_.find(c);
  return it != results_.end() && !it->second;
}

int CandidateSearch::failed() const {
  return static_cast<int>(std::count_if(results_.begin(), results_.end(), [](const auto& r) { return !r.second; }));
}

}  // namespace fp8kit::tune
