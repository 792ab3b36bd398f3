// fp8kit cache ls|clear: the JIT kernel cache.
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "jit/disk_cache.hpp"
#include "jit/options.hpp"

namespace fp8kit::cli {

void add_cache_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("cache", "list or clear the JIT kernel cache");
  cmd->require_subcommand(1);
  cmd->add_subcommand("ls", "list cached kernels")->callback([] {
    const jit::DiskCache cache(jit::global_options().cache_dir);
    const auto entries = cache.list();
    fmt::print("# kernel cache {}: {} entries\n", cache.root().string(), entries.size());
    if (entries.empty()) return;
    fmt::print("{:<56} {:<12} {:>9} {:>5} {:>6}  {}\n", "kernel", "key", "bytes", "regs", "spill", "created");
    for (const auto& e : entries) {
      fmt::print("{:<56} {:<12} {:>9} {:>5} {:>6}  {}\n", e.name, e.key.substr(0, 12), e.bytes, e.usage.registers,
                 e.usage.spill_store_bytes + e.usage.spill_load_bytes, e.created_utc);
    }
  });
  cmd->add_subcommand("clear", "remove every cached kernel")->callback([] {
    const jit::DiskCache cache(jit::global_options().cache_dir);
    const std::size_t removed = cache.clear();
    fmt::print("removed {} cached kernels from {}\n", removed, cache.root().string());
  });
}

}  // namespace fp8kit::cli
