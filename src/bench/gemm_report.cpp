#include "bench/gemm_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "ops/gemm_config_choice.hpp"

namespace fp8kit::bench {
namespace {

template <typename Cell>
Table shape_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs, Cell cell) {
  Table t;
  t.add_column("M", Align::kRight);
  for (const GemmRun& r : runs) t.add_column(r.label, Align::kRight);
  std::set<std::int64_t> ms;
  for (const GemmMeasurement& r : rows) ms.insert(r.m);
  for (std::int64_t m : ms) {
    std::vector<std::string> cells{std::to_string(m)};
    for (const GemmRun& run : runs) {
      const auto it = std::find_if(rows.begin(), rows.end(),
                                   [&](const GemmMeasurement& r) { return r.m == m && r.run.label == run.label; });
      if (it == rows.end()) {
        cells.emplace_back("-");
      } else if (it->failed()) {
        cells.emplace_back("FAILED");
      } else if (!it->ok()) {
        cells.emplace_back("n/a");
      } else {
        cells.push_back(cell(*it));
      }
    }
    t.add_row(std::move(cells));
  }
  return t;
}

}  // namespace

Table tflops_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs) {
  return shape_table(rows, runs, [](const GemmMeasurement& r) {
    return fmt::format("{}{} ({}-{})", r.padded_m > 0 ? "*" : "", format_number(r.tflops(r.us.median), 1),
                       format_number(r.tflops(r.us.p80), 1), format_number(r.tflops(r.us.p20), 1));
  });
}

Table error_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs) {
  return shape_table(rows, runs, [](const GemmMeasurement& r) { return fmt::format("{:.2e}", r.rel_error); });
}

Table bandwidth_table(std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs, double copy_gbps) {
  return shape_table(rows, runs, [copy_gbps](const GemmMeasurement& r) {
    const double gbps = r.gbps(r.us.median);
    if (r.read_floor_us <= 0) return fmt::format("{} ({:.0f}%)", format_number(gbps, 0), 100.0 * gbps / copy_gbps);
    return fmt::format("{} ({:.0f}% / {:.0f}%)", format_number(gbps, 0), 100.0 * gbps / copy_gbps,
                       100.0 * r.read_floor_us / r.us.median);
  });
}

void print_gemm_shape(const GemmShapeEntry& shape, std::span<const GemmMeasurement> rows, std::span<const GemmRun> runs,
                      double copy_gbps) {
  fmt::print("== N={} K={}  ({}, TP {}: {})\n", shape.n, shape.k, shape.models_text(), shape.tps_text(),
             shape.layers_text());
  fmt::print("TFLOP/s, median (p20-p80):\n{}\n", tflops_table(rows, runs).render());
  if (std::any_of(rows.begin(), rows.end(), [](const GemmMeasurement& r) { return r.padded_m > 0; })) {
    fmt::print("* cuBLASLt's block scales need M % 4 == 0: timed at M padded to the next multiple of 4 (as vLLM "
               "pads), TFLOP/s of the unpadded M\n\n");
  }
  if (copy_gbps > 0) {
    const bool floors = std::any_of(rows.begin(), rows.end(), [](const GemmMeasurement& r) { return r.read_floor_us > 0; });
    fmt::print("GB/s that must move (inputs, scales, output), median (% of the copy ceiling, {:.0f} GB/s{}):\n{}\n",
               copy_gbps, floors ? " / % of the cold-read floor: a read of the same bytes, timed alike, its time over the call's" : "",
               bandwidth_table(rows, runs, copy_gbps).render());
  }
  fmt::print("relative error against the double product of the unquantized bf16 inputs:\n{}\n",
             error_table(rows, runs).render());
  for (const GemmMeasurement& r : rows) {
    if (r.ok()) continue;
    const std::string first_line = r.status.substr(0, r.status.find('\n'));
    fmt::print("  {} M={}: {}{}\n", r.run.label, r.m, first_line, first_line.size() < r.status.size() ? " [...]" : "");
  }
  fmt::print("\n");
  std::fflush(stdout);
}

ResultRecord gemm_record(const GemmMeasurement& row, std::uint64_t seed, const RunContext& context, double copy_gbps) {
  ResultRecord rec;
  rec.suite = "gemm";
  rec.name = row.run.label;
  rec.params = {{"m", std::to_string(row.m)},
                {"n", std::to_string(row.n)},
                {"k", std::to_string(row.k)},
                {"models", row.models},
                {"tp", row.tps},
                {"provider", row.run.provider.name()},
                {"backend", std::string(gemm_backend_name(row.run.backend))},
                {"out_dtype", "bfloat16"},
                {"fast_accum", row.fast_accum ? "1" : "0"},
                {"act_dist", std::string(act_dist_name(row.act_dist))},
                {"seed", std::to_string(seed)},
                {"error_rows", std::to_string(row.error_rows)}};
  if (row.padded_m > 0) rec.params["m_padded"] = std::to_string(row.padded_m);
  if (row.b_is_weight) rec.params["b_is_weight"] = "1";
  if (row.hot_activations) rec.params["hot_activations"] = "1";
  if (!row.kernel.empty()) rec.params["kernel"] = row.kernel;
  rec.status = row.status;
  if (row.ok()) {
    rec.metrics = {{"tflops_median", row.tflops(row.us.median)},
                   {"tflops_p20", row.tflops(row.us.p80)},
                   {"tflops_p80", row.tflops(row.us.p20)},
                   {"us_median", row.us.median},
                   {"us_p20", row.us.p20},
                   {"us_p80", row.us.p80},
                   {"rel_error", row.rel_error},
                   {"gbps_median", row.gbps(row.us.median)}};
    if (copy_gbps > 0) {
      rec.metrics["copy_ceiling_gbps"] = copy_gbps;
      rec.metrics["pct_copy_ceiling"] = 100.0 * row.gbps(row.us.median) / copy_gbps;
    }
    if (row.read_floor_us > 0) {
      rec.metrics["read_floor_us"] = row.read_floor_us;
      rec.metrics["pct_read_floor"] = 100.0 * row.read_floor_us / row.us.median;
    }
  }
  rec.context = context;
  return rec;
}

std::string fp8kit_kernel_name(const GemmMeasurement& row, const cuda::DeviceInfo& device) {
  const GemmRun& run = row.run;
  if (!row.ok() || run.backend != GemmBackend::kFp8kit || !run.provider.fp8) return {};
  return kernel_name(ops::choose_gemm_config({row.m, row.n, row.k}, run.provider.act, run.provider.weight,
                                             DType::kBFloat16, row.fast_accum, device));
}

std::string progress_bar(std::size_t done, std::size_t total, std::string_view what, int width) {
  const std::size_t w = static_cast<std::size_t>(std::max(width, 1));
  const std::size_t filled = total == 0 ? w : std::min(w, done * w / total);
  const std::size_t pct = total == 0 ? 100 : done * 100 / total;
  const int digits = static_cast<int>(std::to_string(total).size());
  return fmt::format("[{}{}] {:>{}}/{} {:>3}%  {}", std::string(filled, '#'), std::string(w - filled, '.'), done, digits,
                     total, pct, what);
}

std::string plain_progress(std::size_t done, std::size_t total, std::string_view what) {
  return fmt::format("[{}/{}] {}", done, total, what);
}

ProgressLine::ProgressLine(std::size_t total) : total_(total), tty_(isatty(fileno(stderr)) != 0) {}

void ProgressLine::step(std::string_view what) {
  if (tty_) {
    std::fprintf(stderr, "\r\x1b[K%s", progress_bar(done_, total_, what).c_str());
  } else {
    std::fprintf(stderr, "%s\n", plain_progress(done_ + 1, total_, what).c_str());
  }
  std::fflush(stderr);
  ++done_;
}

void ProgressLine::clear() {
  if (tty_) std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
}

}  // namespace fp8kit::bench
