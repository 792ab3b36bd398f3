// fp8kit plot RESULTS.jsonl --out DIR: draws the plots of benchmark results measured anywhere.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/plot.hpp"
#include "core/result.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::cli {
namespace {

struct PlotArgs {
  std::string results;
  std::string out = "plots";
};

void run_plot(const PlotArgs& args) {
  const std::vector<ResultRecord> records = read_jsonl(args.results);
  const auto plots = gemm_plots(records);
  if (plots.empty()) {
    throw_invalid_argument(fmt::format("{}: no successful gemm records with tflops_median to plot", args.results));
  }
  bool drawn = true;
  for (const auto& [folder, plot] : plots) {
    const std::filesystem::path dir = std::filesystem::path(args.out) / folder;
    write_plot_files(plot, dir, "tflops");
    drawn = render_plot(dir, "tflops") && drawn;
    fmt::print("{}/tflops.{{png,svg,gp,dat}}\n", dir.string());
  }
  if (!drawn) fmt::print("gnuplot is not installed: wrote the .gp scripts and data only\n");
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* cmd = app.add_subcommand("plot", "draw PNG and SVG plots (gnuplot) from a results .jsonl file");
  cmd->add_option("results", args->results, "JSON-lines results written by a benchmark")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "output folder")->capture_default_str();
  cmd->callback([args] { run_plot(*args); });
}

}  // namespace fp8kit::cli
