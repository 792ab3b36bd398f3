#include "cli/commands.hpp"

#include "core/gemm_config_json.hpp"

namespace fp8kit::cli {
namespace {
std::string& stored() {
  static std::string line;
  return line;
}
}  // namespace

const std::string& command_line() { return stored(); }
void set_command_line(std::string line) { stored() = std::move(line); }

TunedScales ScalePairFlags::parse() const {
  return {parse_flag("--mode-a", [&] { return parse_scale_mode_a(a); }),
          parse_flag("--mode-b", [&] { return parse_scale_mode_b(b); })};
}

void add_scale_pair_flags(CLI::App& cmd, ScalePairFlags& flags) {
  cmd.add_option("--mode-a", flags.a, "activation scales: group128 (1x128), token or tensor")->capture_default_str();
  cmd.add_option("--mode-b", flags.b, "weight scales: block128 (128x128), channel or tensor")->capture_default_str();
}

}  // namespace fp8kit::cli
