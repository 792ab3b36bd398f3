#include "cli/commands.hpp"

namespace fp8kit::cli {
namespace {
std::string& stored() {
  static std::string line;
  return line;
}
}  // namespace

const std::string& command_line() { return stored(); }
void set_command_line(std::string line) { stored() = std::move(line); }

}  // namespace fp8kit::cli
