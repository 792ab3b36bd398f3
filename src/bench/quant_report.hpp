// What `fp8kit bench quant` reports: one measurement per (configuration, implementation), its
// table rows and result record, and the geometric-mean speedups. Pure C++: tested without a GPU.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bench/quant_plan.hpp"
#include "bench/table.hpp"
#include "core/result.hpp"
#include "core/stats.hpp"

namespace fp8kit::bench {

struct QuantMeasurement {
  QuantConfig config;
  QuantImpl impl = QuantImpl::kFp8kit;
  std::string status = "ok";  // or "FAILED: <first mismatch or error>"; then `us` is not measured
  Summary us;                 // per-call time in microseconds
  QuantBytes bytes;
  double copy_gbps = 0;  // the device's measured copy ceiling; 0 when unknown
  double empty_us = 0;   // an empty kernel's graph-replay time, plain launches; 0 when unknown

  bool ok() const { return status == "ok"; }
  double gbps() const;       // bytes.moved per second / 1e9
  double pct_copy() const;   // gbps() as % of copy_gbps (NaN when unknown or failed)
  double pct_floor() const;  // bytes.floor moved at copy_gbps, as % of the measured time
  double x_empty() const;    // us.median / empty_us (NaN when unknown or failed)
};

std::string failed_status(const std::string& why);  // "FAILED: <why>"

// Columns: M, H, group, layout, impl, µs median, p20, p80, GB/s, % copy, % floor, x empty, status.
Table quant_table(std::span<const QuantMeasurement> rows);

// Geometric mean of baseline_time / candidate_time over the configurations where both succeeded,
// per (scale layout, group shape), in order of first appearance. A configuration where either
// failed is counted in `excluded`, never in the mean; with no pair the mean is NaN.
struct SpeedupGroup {
  std::string layout;  // QuantConfig::layout_label()
  std::string group;   // QuantConfig::group_label()
  double geomean = 0;
  int pairs = 0;
  int excluded = 0;
};
std::vector<SpeedupGroup> geomean_speedups(std::span<const QuantMeasurement> rows, QuantImpl baseline,
                                           QuantImpl candidate);
Table speedup_table(std::span<const SpeedupGroup> groups, QuantImpl baseline, QuantImpl candidate);

// suite "quant", name = implementation; params m, h, group, group_size, layout, spec, dtype, seed;
// metrics bytes, floor_bytes, copy_gbps, empty_kernel_us and, when measured, us_median/p20/p80,
// gbps, pct_copy_bw, pct_floor, x_empty_kernel.
ResultRecord quant_record(const QuantMeasurement& row, DType dtype, std::uint64_t seed, const RunContext& context);

}  // namespace fp8kit::bench
