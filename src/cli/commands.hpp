// Each subcommand registers itself on the app and runs through a callback; errors propagate as
// fp8kit::Error and main() turns them into exit codes (DESIGN.md §8).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace fp8kit::cli {

// The command line as typed, recorded in every result (set by main).
const std::string& command_line();
void set_command_line(std::string line);

void add_info_command(CLI::App& app);
void add_shapes_command(CLI::App& app);
void add_cache_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_bench_command(CLI::App& app);  // bench quant (bench gemm joins it)
void add_tune_command(CLI::App& app);   // tune, and its hidden tune-worker

}  // namespace fp8kit::cli
