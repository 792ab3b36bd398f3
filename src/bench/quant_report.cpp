#include "bench/quant_report.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

namespace fp8kit::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double QuantMeasurement::gbps() const {
  if (!ok() || !(us.median > 0)) return kNaN;
  return static_cast<double>(bytes.moved) / (us.median * 1e3);
}

double QuantMeasurement::pct_copy() const {
  if (!(copy_gbps > 0)) return kNaN;
  return 100.0 * gbps() / copy_gbps;
}

double QuantMeasurement::pct_floor() const {
  if (!ok() || !(copy_gbps > 0) || !(us.median > 0)) return kNaN;
  const double floor_us = static_cast<double>(bytes.floor) / (copy_gbps * 1e3);
  return 100.0 * floor_us / us.median;
}

double QuantMeasurement::x_empty() const {
  if (!ok() || !(empty_us > 0)) return kNaN;
  return us.median / empty_us;
}

std::string failed_status(const std::string& why) { return "FAILED: " + why; }

Table quant_table(std::span<const QuantMeasurement> rows) {
  Table t;
  t.add_column("M", Align::kRight)
      .add_column("H", Align::kRight)
      .add_column("group", Align::kLeft)
      .add_column("layout", Align::kLeft)
      .add_column("impl", Align::kLeft)
      .add_column("µs", Align::kRight)
      .add_column("p20", Align::kRight)
      .add_column("p80", Align::kRight)
      .add_column("GB/s", Align::kRight)
      .add_column("% copy", Align::kRight)
      .add_column("% floor", Align::kRight)
      .add_column("x empty", Align::kRight)
      .add_column("status", Align::kLeft);
  for (const QuantMeasurement& r : rows) {
    const bool ok = r.ok();
    auto timed = [&](double v, int decimals) { return ok ? format_number(v, decimals) : std::string("-"); };
    t.add_row({std::to_string(r.config.m), std::to_string(r.config.h), r.config.group_label(), r.config.layout_label(),
               std::string(quant_impl_name(r.impl)), timed(r.us.median, 2), timed(r.us.p20, 2), timed(r.us.p80, 2),
               timed(r.gbps(), 0), timed(r.pct_copy(), 1), timed(r.pct_floor(), 1), timed(r.x_empty(), 2), ok ? "ok" : "FAILED"});
  }
  return t;
}

std::vector<SpeedupGroup> geomean_speedups(std::span<const QuantMeasurement> rows, QuantImpl baseline,
                                           QuantImpl candidate) {
  std::vector<SpeedupGroup> groups;
  std::map<std::pair<std::string, std::string>, std::vector<double>> ratios;
  auto group_of = [&](const QuantConfig& c) -> SpeedupGroup& {
    for (SpeedupGroup& g : groups) {
      if (g.layout == c.layout_label() && g.group == c.group_label()) return g;
    }
    groups.push_back({c.layout_label(), c.group_label(), kNaN, 0, 0});
    return groups.back();
  };
  for (const QuantMeasurement& base : rows) {
    if (base.impl != baseline) continue;
    for (const QuantMeasurement& cand : rows) {
      if (cand.impl != candidate || !(base.config == cand.config)) continue;
      SpeedupGroup& g = group_of(base.config);
      if (base.ok() && cand.ok()) {
        ratios[{g.layout, g.group}].push_back(base.us.median / cand.us.median);
        ++g.pairs;
      } else {
        ++g.excluded;
      }
    }
  }
  for (SpeedupGroup& g : groups) {
    const auto& r = ratios[{g.layout, g.group}];
    g.geomean = r.empty() ? kNaN : geomean(r);
  }
  return groups;
}

Table speedup_table(std::span<const SpeedupGroup> groups, QuantImpl baseline, QuantImpl candidate) {
  Table t;
  t.add_column("layout", Align::kLeft)
      .add_column("group", Align::kLeft)
      .add_column(fmt::format("{} / {}", quant_impl_name(candidate), quant_impl_name(baseline)), Align::kRight)
      .add_column("configs", Align::kRight)
      .add_column("excluded", Align::kRight);
  for (const SpeedupGroup& g : groups) {
    t.add_row({g.layout, g.group, std::isnan(g.geomean) ? "n/a" : format_number(g.geomean, 2) + "x",
               std::to_string(g.pairs), std::to_string(g.excluded)});
  }
  return t;
}

ResultRecord quant_record(const QuantMeasurement& row, DType dtype, std::uint64_t seed, const RunContext& context) {
  ResultRecord r;
  r.suite = "quant";
  r.name = std::string(quant_impl_name(row.impl));
  r.params = {{"m", std::to_string(row.config.m)},
              {"h", std::to_string(row.config.h)},
              {"group", row.config.group_label()},
              {"group_size", std::to_string(row.config.group_size)},
              {"layout", row.config.layout_label()},
              {"spec", row.config.spec.describe()},
              {"dtype", std::string(dtype_name(dtype))},
              {"seed", std::to_string(seed)}};
  r.metrics = {{"bytes", static_cast<double>(row.bytes.moved)}, {"floor_bytes", static_cast<double>(row.bytes.floor)}};
  if (row.copy_gbps > 0) r.metrics["copy_gbps"] = row.copy_gbps;
  if (row.empty_us > 0) r.metrics["empty_kernel_us"] = row.empty_us;
  if (row.ok()) {
    r.metrics["us_median"] = row.us.median;
    r.metrics["us_p20"] = row.us.p20;
    r.metrics["us_p80"] = row.us.p80;
    r.metrics["gbps"] = row.gbps();
    if (row.copy_gbps > 0) {
      r.metrics["pct_copy_bw"] = row.pct_copy();
      r.metrics["pct_floor"] = row.pct_floor();
    }
    if (row.empty_us > 0) r.metrics["x_empty_kernel"] = row.x_empty();
  }
  r.status = row.status;
  r.context = context;
  return r;
}

}  // namespace fp8kit::bench
