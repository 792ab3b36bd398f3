// NVRTC compiles every kernel for sm_90a without a GPU; the disk cache keys, publishes and
// recovers as DESIGN.md §4 says.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "common/test_util.hpp"
#include "bench/ceilings.hpp"
#include "bench/cold_read.hpp"
#include "core/files.hpp"
#include "fp8kit/types.hpp"
#include "jit/compiler.hpp"
#include "jit/embedded_kernels.hpp"
#include "jit/nvrtc_compile.hpp"

namespace fp8kit::jit {
namespace {
namespace fs = std::filesystem;

using test::TempDir;

KernelSource conversion_kernel(const std::string& name = "test_e4m3_convert") {
  return {name,
          "#include <fp8kit/common/fp8.cuh>\n"
          "extern \"C\" __global__ void fp8kit_entry(const float* x, fp8kit::u8* q, int n) {\n"
          "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
          "  if (i < n) q[i] = fp8kit::e4m3_from_float(x[i]);\n"
          "}\n"};
}

JitOptions options_in(const fs::path& dir) {
  JitOptions o;
  o.cache_dir = dir;
  o.fail_on_spill = true;
  return o;
}

bool is_elf(const std::string& bytes) { return bytes.size() > 4 && bytes.compare(0, 4, "\x7f" "ELF") == 0; }

std::size_t count_temp_dirs(const fs::path& root) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) n += e.path().filename().string().starts_with(".tmp-");
  return n;
}

TEST(JitCompile, EveryKernelCompilesForSm90aWithoutSpills) {
  TempDir dir;
  const KernelCompiler compiler(options_in(dir.path()));
  std::vector<KernelSource> library_kernels = bench::copy_kernel_sources();
  for (KernelSource& read : bench::cold_read_kernel_sources()) library_kernels.push_back(std::move(read));
  library_kernels.push_back(conversion_kernel());
  library_kernels.push_back(bench::empty_kernel_source());
  for (const KernelSource& source : library_kernels) {
    const CompiledKernel k = compiler.compile(source);
    EXPECT_TRUE(is_elf(k.cubin)) << source.name;
    EXPECT_GT(k.usage.registers, 0) << source.name << "\n" << k.log;
    EXPECT_FALSE(k.usage.spills()) << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.log;
    EXPECT_FALSE(k.from_disk_cache);
  }
}

TEST(JitCompile, EveryEmbeddedHeaderIsInTheNvccCheck) {
  const std::string check = read_file(fs::path(FP8KIT_SOURCE_DIR) / "tests/cpu/device_headers.cu");
  ASSERT_FALSE(embedded_kernel_headers().empty());
  for (const EmbeddedFile& f : embedded_kernel_headers()) {
    EXPECT_NE(check.find(fmt::format("#include <{}>", f.path)), std::string::npos)
        << f.path << " is missing from tests/cpu/device_headers.cu";
  }
}

TEST(JitCompile, TransitiveIncludesFollowHeaders) {
  const auto includes = transitive_includes(conversion_kernel().source);
  const std::vector<std::string_view> expected = {"fp8kit/common/fp8.cuh", "fp8kit/common/types.cuh"};
  EXPECT_EQ(includes, expected);
  EXPECT_THROW(transitive_includes("#include <fp8kit/no/such.cuh>\n"), Error);
}

TEST(JitCompile, CacheKeyIsStableAndSensitive) {
  TempDir dir;
  const KernelCompiler compiler(options_in(dir.path()));
  const KernelSource a = conversion_kernel();
  EXPECT_EQ(compiler.cache_key(a), compiler.cache_key(a));
  EXPECT_EQ(compiler.cache_key(a).size(), 32u);
  KernelSource b = a;
  b.source += "// a comment changes the key\n";
  EXPECT_NE(compiler.cache_key(a), compiler.cache_key(b));
  KernelSource c = a;
  c.entry = "other_entry";
  EXPECT_NE(compiler.cache_key(a), compiler.cache_key(c));
  JitOptions other = options_in(dir.path());
  other.arch = "sm_100a";
  EXPECT_NE(compiler.cache_key(a), KernelCompiler(other).cache_key(a));
  JitOptions debug = options_in(dir.path());
  debug.debug = true;  // adds line info: different code
  EXPECT_NE(compiler.cache_key(a), KernelCompiler(debug).cache_key(a));
}

TEST(JitCompile, SecondCompileComesFromDiskCache) {
  TempDir dir;
  const KernelSource source = conversion_kernel();
  const CompiledKernel first = KernelCompiler(options_in(dir.path())).compile(source);
  const CompiledKernel second = KernelCompiler(options_in(dir.path())).compile(source);
  EXPECT_FALSE(first.from_disk_cache);
  EXPECT_TRUE(second.from_disk_cache);
  EXPECT_EQ(first.cubin, second.cubin);
  EXPECT_EQ(first.usage.registers, second.usage.registers);
  const auto entries = KernelCompiler(options_in(dir.path())).disk_cache().list();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, source.name);
  EXPECT_EQ(count_temp_dirs(dir.path()), 0u);
}

TEST(JitCompile, CorruptEntryIsRecompiledNotTrusted) {
  TempDir dir;
  const KernelCompiler compiler(options_in(dir.path()));
  const KernelSource source = conversion_kernel();
  const CompiledKernel good = compiler.compile(source);
  const fs::path cubin = compiler.disk_cache().entry_dir(source.name, good.key) / "kernel.cubin";
  fs::resize_file(cubin, fs::file_size(cubin) / 2);  // a truncated write
  const CompiledKernel again = compiler.compile(source);
  EXPECT_FALSE(again.from_disk_cache);
  EXPECT_EQ(again.cubin, good.cubin);
  EXPECT_TRUE(compiler.compile(source).from_disk_cache);

  std::ofstream(compiler.disk_cache().entry_dir(source.name, good.key) / "meta.json") << "{ not json";
  EXPECT_FALSE(compiler.compile(source).from_disk_cache);
  EXPECT_EQ(count_temp_dirs(dir.path()), 0u);
}

TEST(JitCompile, ParallelCompilesOfOneKernelPublishOneEntry) {
  TempDir dir;
  const KernelCompiler compiler(options_in(dir.path()));
  const std::vector<KernelSource> sources(4, conversion_kernel());
  const auto compiled = compiler.compile_all(sources, 4);
  ASSERT_EQ(compiled.size(), 4u);
  for (const auto& k : compiled) EXPECT_EQ(k.cubin, compiled[0].cubin);
  EXPECT_EQ(compiler.disk_cache().list().size(), 1u);
  EXPECT_EQ(count_temp_dirs(dir.path()), 0u);
  EXPECT_EQ(compiler.disk_cache().clear(), 1u);
  EXPECT_TRUE(compiler.disk_cache().list().empty());
}

TEST(JitCompile, CompileErrorCarriesTheLog) {
  TempDir dir;
  const KernelCompiler compiler(options_in(dir.path()));
  const KernelSource broken{"test_broken", "extern \"C\" __global__ void fp8kit_entry() { undeclared_name = 1; }\n"};
  try {
    compiler.compile(broken);
    FAIL() << "expected a compile error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("undeclared_name"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test_broken"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(compiler.disk_cache().list().empty());
}

TEST(JitCompile, SpillingKernelIsRefusedWhenFailOnSpillIsSet) {
  // 32 registers per thread (1024 threads, 2 blocks per SM) cannot hold 96 live values.
  const KernelSource spiller{
      "test_spiller",
      "extern \"C\" __global__ void __launch_bounds__(1024, 2) fp8kit_entry(const float* x, float* y) {\n"
      "  float v[96];\n"
      "#pragma unroll\n"
      "  for (int i = 0; i < 96; ++i) v[i] = x[threadIdx.x + i * 1024];\n"
      "  float s = 0;\n"
      "#pragma unroll\n"
      "  for (int i = 0; i < 96; ++i) s += v[i] * v[95 - i] * v[(i * 7) % 96];\n"
      "  y[threadIdx.x] = s;\n"
      "}\n"};
  TempDir dir;
  JitOptions lenient = options_in(dir.path());
  lenient.fail_on_spill = false;
  const CompiledKernel k = KernelCompiler(lenient).compile(spiller);
  ASSERT_TRUE(k.usage.spills()) << "the test kernel no longer spills; make it larger\n" << k.log;
  EXPECT_THROW(KernelCompiler(options_in(dir.path())).compile(spiller), Error);  // also from the disk cache
}

TEST(JitCompile, ParsesThePtxasReport) {
  const std::string log =
      "ptxas info    : Compiling entry function 'fp8kit_entry' for 'sm_90a'\n"
      "ptxas info    : Function properties for fp8kit_entry\n"
      "    24 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Used 168 registers, used 1 barriers, 384 bytes cmem[0]\n";
  const ResourceUsage u = parse_ptxas_report(log);
  EXPECT_EQ(u.registers, 168);
  EXPECT_EQ(u.stack_frame_bytes, 24);
  EXPECT_EQ(u.spill_store_bytes, 8);
  EXPECT_EQ(u.spill_load_bytes, 12);
  EXPECT_TRUE(u.spills());
}

}  // namespace
}  // namespace fp8kit::jit
