#include "jit/nvrtc_compile.hpp"

#include <nvrtc.h>

#include <regex>

#include <fmt/format.h>

#include "fp8kit/types.hpp"
#include "jit/embedded_kernels.hpp"

namespace fp8kit::jit {
namespace {

class Program {
 public:
  explicit Program(nvrtcProgram p) : p_(p) {}
  ~Program() { nvrtcDestroyProgram(&p_); }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  nvrtcProgram get() const { return p_; }

 private:
  nvrtcProgram p_;
};

void check_nvrtc(nvrtcResult r, const char* what, const std::string& name) {
  if (r != NVRTC_SUCCESS) {
    throw Error(ErrorKind::kEnvironment, fmt::format("NVRTC {} failed for {}: {}", what, name, nvrtcGetErrorString(r)));
  }
}

int match_int(const std::string& log, const std::regex& re) {
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1].str()) : 0;
}

}  // namespace

std::vector<std::string> nvrtc_options(const std::string& arch, bool line_info) {
  std::vector<std::string> options = {"--gpu-architecture=" + arch, "--std=c++20", "--ptxas-options=-v",
                                      "-DNDEBUG"};
  if (line_info) options.emplace_back("--generate-line-info");
  return options;
}

std::string nvrtc_version_string() {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  return fmt::format("{}.{}", major, minor);
}

ResourceUsage parse_ptxas_report(const std::string& log) {
  static const std::regex registers(R"(Used (\d+) registers)");
  static const std::regex stack(R"((\d+) bytes stack frame)");
  static const std::regex stores(R"((\d+) bytes spill stores)");
  static const std::regex loads(R"((\d+) bytes spill loads)");
  ResourceUsage u;
  std::smatch m;
  if (std::regex_search(log, m, registers)) u.registers = std::stoi(m[1].str());
  u.stack_frame_bytes = match_int(log, stack);
  u.spill_store_bytes = match_int(log, stores);
  u.spill_load_bytes = match_int(log, loads);
  return u;
}

CompiledKernel nvrtc_compile(const KernelSource& source, const std::vector<std::string>& options) {
  const auto& headers = embedded_kernel_headers();
  std::vector<std::string> header_texts, header_names;  // NUL-terminated copies for the C API
  for (const EmbeddedFile& f : headers) {
    header_texts.emplace_back(f.text);
    header_names.emplace_back(f.path);
  }
  std::vector<const char*> texts, names;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    texts.push_back(header_texts[i].c_str());
    names.push_back(header_names[i].c_str());
  }
  nvrtcProgram raw = nullptr;
  const std::string file = source.name + ".cu";
  check_nvrtc(nvrtcCreateProgram(&raw, source.source.c_str(), file.c_str(), static_cast<int>(texts.size()),
                                 texts.data(), names.data()),
              "nvrtcCreateProgram", source.name);
  Program program(raw);

  std::vector<const char*> argv;
  for (const std::string& o : options) argv.push_back(o.c_str());
  const nvrtcResult compiled = nvrtcCompileProgram(program.get(), static_cast<int>(argv.size()), argv.data());

  std::size_t log_size = 0;
  nvrtcGetProgramLogSize(program.get(), &log_size);
  std::string log(log_size, '\0');
  if (log_size > 0) nvrtcGetProgramLog(program.get(), log.data());
  while (!log.empty() && log.back() == '\0') log.pop_back();

  if (compiled != NVRTC_SUCCESS) {
    throw Error(ErrorKind::kCheckFailed,
                fmt::format("NVRTC could not compile kernel {} ({}):\n{}", source.name, nvrtcGetErrorString(compiled), log));
  }
  std::size_t cubin_size = 0;
  check_nvrtc(nvrtcGetCUBINSize(program.get(), &cubin_size), "nvrtcGetCUBINSize", source.name);
  CompiledKernel out;
  out.name = source.name;
  out.cubin.resize(cubin_size);
  check_nvrtc(nvrtcGetCUBIN(program.get(), out.cubin.data()), "nvrtcGetCUBIN", source.name);
  std::size_t ptx_size = 0;
  check_nvrtc(nvrtcGetPTXSize(program.get(), &ptx_size), "nvrtcGetPTXSize", source.name);
  out.ptx.resize(ptx_size);
  check_nvrtc(nvrtcGetPTX(program.get(), out.ptx.data()), "nvrtcGetPTX", source.name);
  while (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();
  out.log = std::move(log);
  out.usage = parse_ptxas_report(out.log);
  return out;
}

}  // namespace fp8kit::jit
