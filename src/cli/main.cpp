// fp8kit: quantize, multiply and benchmark FP8 on NVIDIA GPUs. Exit codes: 0 ok, 1 a check failed,
// 2 bad usage, 3 environment (no GPU, unsupported architecture, missing library).
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "core/result.hpp"
#include "fp8kit/types.hpp"
#include "fp8kit/version.hpp"
#include "jit/options.hpp"

namespace {

constexpr int kExitUsage = 2;

void add_jit_flags(CLI::App& app) {
  fp8kit::jit::JitOptions& jit = fp8kit::jit::global_options();
  app.add_option_function<std::string>(
         "--cache-dir", [&jit](const std::string& dir) { jit.cache_dir = dir; },
         "JIT kernel cache folder (env FP8KIT_CACHE_DIR)")
      ->type_name("DIR");
  app.add_flag_function("--jit-debug", [&jit](std::int64_t) { jit.debug = true; },
                        "log JIT compiles and cache hits, compile with line info (env FP8KIT_JIT_DEBUG)");
  app.add_flag_function("--jit-dump-sass", [&jit](std::int64_t) { jit.dump_sass = true; },
                        "write each compiled kernel's SASS beside its cubin (env FP8KIT_JIT_DUMP_SASS)");
  app.add_flag_function("--jit-fail-on-spill", [&jit](std::int64_t) { jit.fail_on_spill = true; },
                        "treat a kernel that spills registers as an error (env FP8KIT_JIT_FAIL_ON_SPILL)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fp8kit: FP8 quantization, scaled GEMMs and their benchmarks on NVIDIA GPUs", "fp8kit"};
  try {
    app.set_version_flag("--version", std::string(fp8kit::version()) + " (git " + std::string(fp8kit::git_revision()) + ")");
    app.require_subcommand(1);
    add_jit_flags(app);
    fp8kit::cli::add_info_command(app);
    fp8kit::cli::add_shapes_command(app);
    fp8kit::cli::add_cache_command(app);
    fp8kit::cli::add_plot_command(app);
    fp8kit::cli::add_bench_command(app);
    fp8kit::cli::add_tune_command(app);
    fp8kit::cli::set_command_line(fp8kit::shell_quote_command(argc, argv));
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  } catch (const fp8kit::Error& e) {
    std::fprintf(stderr, "fp8kit: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fp8kit: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
