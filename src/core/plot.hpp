// Plots as data + gnuplot script, so a GPU machine without gnuplot still writes everything and
// `fp8kit plot` draws it elsewhere (DESIGN.md §7).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace fp8kit {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in x order
};

struct LinePlot {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = true;
  std::vector<PlotSeries> series;
};

// The gnuplot script that draws `<stem>.dat` into `<stem>.png` and `<stem>.svg` beside it.
std::string gnuplot_script(const LinePlot& plot, const std::string& stem);
// One block per series (separated by two blank lines, as gnuplot's `index` expects).
std::string gnuplot_data(const LinePlot& plot);

// Writes <dir>/<stem>.dat and <dir>/<stem>.gp atomically.
void write_plot_files(const LinePlot& plot, const std::filesystem::path& dir, const std::string& stem);

// Runs gnuplot on <dir>/<stem>.gp. Returns false when gnuplot is not installed (the data and
// script stay for later); throws fp8kit::Error(kEnvironment) when gnuplot fails.
bool render_plot(const std::filesystem::path& dir, const std::string& stem);

// TFLOP/s against batch size, one plot per (N, K), one line per provider (the record's name);
// FAILED records are left out. Pairs of (folder name "bench_fp8_res_n{N}_k{K}", plot).
std::vector<std::pair<std::string, LinePlot>> gemm_plots(std::span<const ResultRecord> records);

}  // namespace fp8kit
