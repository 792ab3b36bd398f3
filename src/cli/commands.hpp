// Each subcommand registers itself on the app and runs through a callback; errors propagate as
// fp8kit::Error and main() turns them into exit codes (DESIGN.md §8).
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "core/tuned_config_file.hpp"
#include "fp8kit/types.hpp"

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

// --mode-a / --mode-b (tune, cache warm): the GEMM's scale pair, block scaling by default.
struct ScalePairFlags {
  std::string a = "group128", b = "block128";
  TunedScales parse() const;  // a bad value: kInvalidArgument naming the flag
};
void add_scale_pair_flags(CLI::App& cmd, ScalePairFlags& flags);

// Re-throws a parse error of a flag's value with the flag's name in front.
template <typename Fn>
auto parse_flag(std::string_view flag, Fn&& parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: {}", flag, e.what()));
  }
}

}  // namespace fp8kit::cli
