// The quantization kernels without a GPU: every variant the heuristic can pick compiles for
// sm_90a with no spill and no stack frame and waits for the previous grid before it touches
// global memory, names are unique, and the argument checks refuse bad input with a message naming
// the argument (what the planner picks: test_quant_plan.cpp).
#include <gtest/gtest.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "common/quant_problem_builder.hpp"
#include "common/test_util.hpp"
#include "core/files.hpp"
#include "core/ref_quant.hpp"
#include "jit/compiler.hpp"
#include "ops/quant_checks.hpp"
#include "ops/quant_kernels.hpp"
#include "ops/quant_plan.hpp"

namespace fp8kit::ops {
namespace {
namespace fs = std::filesystem;

using test::TempDir;
using test::group;
using test::problem;
using test::spec_of;
using test::token;


// The first PTX line that may touch global memory (a load, store, atomic or reduction outside the
// param, shared, local and const spaces: generic addresses count) before the first
// griddepcontrol.wait; empty when there is none. A programmatically launched kernel may run
// while the previous kernel still reads what it writes or writes what it reads.
std::string global_access_before_wait(const std::string& ptx) {
  static const std::regex access(R"(^\s*(@!?\S+\s+)?(ld|st|atom|red|cp\.async)\.(?!param|shared|local|const))");
  std::istringstream in(ptx);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("griddepcontrol.wait") != std::string::npos) return {};
    if (std::regex_search(line, access)) return line;
  }
  return "(no griddepcontrol.wait at all)";
}

TEST(QuantKernels, PtxCheckFindsAccessesBeforeTheWait) {
  EXPECT_EQ(global_access_before_wait("ld.param.u64 %rd1, [p];\n\tgriddepcontrol.wait;\n\tld.global.u32 %r1, [%rd1];\n"), "");
  EXPECT_EQ(global_access_before_wait("\t@q ld.global.nc.v4.u32 {%r1, %r2, %r3, %r4}, [%rd1];\n\tgriddepcontrol.wait;\n"),
            "\t@q ld.global.nc.v4.u32 {%r1, %r2, %r3, %r4}, [%rd1];");
  EXPECT_EQ(global_access_before_wait("\tst.u32 [%rd2], %r1;\n\tgriddepcontrol.wait;\n"), "\tst.u32 [%rd2], %r1;");
  EXPECT_EQ(global_access_before_wait("\tst.shared.u32 [%r2], %r1;\n"), "(no griddepcontrol.wait at all)");
}

TEST(QuantKernels, EveryVariantCompilesForSm90aWithoutSpillsOrStack) {
  TempDir dir;
  jit::JitOptions options;
  options.cache_dir = dir.path();
  // FP8KIT_CACHE_DIR set: fill that cache instead (e.g. to carry compiled kernels to a GPU machine).
  if (std::getenv("FP8KIT_CACHE_DIR") != nullptr) options.cache_dir = jit::options_from_environment().cache_dir;
  options.fail_on_spill = true;
  const jit::KernelCompiler compiler(options);
  std::vector<jit::KernelSource> sources;
  for (const QuantKernelConfig& c : all_quant_kernel_configs()) sources.push_back(quant_kernel_source(c));
  const std::vector<jit::CompiledKernel> compiled = compiler.compile_all(sources);
  ASSERT_EQ(compiled.size(), sources.size());
  for (const jit::CompiledKernel& k : compiled) {
    EXPECT_GT(k.usage.registers, 0) << k.name << "\n" << k.log;
    EXPECT_FALSE(k.usage.spills()) << k.name << "\n" << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.name << "\n" << k.log;
    if (!k.from_disk_cache) {
      EXPECT_EQ(global_access_before_wait(k.ptx), "") << k.name << " touches global memory before griddepcontrol.wait";
    }
    std::printf("  %-48s %3d registers\n", k.name.c_str(), k.usage.registers);
  }
}

TEST(QuantKernels, NamesAndKeysAreUniqueAndStable) {
  const auto all = all_quant_kernel_configs();
  std::set<std::string> names;
  std::set<std::uint64_t> keys;
  for (const QuantKernelConfig& c : all) {
    EXPECT_TRUE(names.insert(kernel_name(c)).second) << kernel_name(c);
    EXPECT_TRUE(keys.insert(c.key()).second) << kernel_name(c);
    EXPECT_EQ(quant_kernel_source(c).name, kernel_name(c));
  }
  EXPECT_EQ(all, all_quant_kernel_configs());
  const QuantKernelConfig g = plan_quantize(problem(4096, 7168, group(128, ScaleLayout::kColMajorTmaAligned)), 132).launches[0].config;
  EXPECT_EQ(kernel_name(g), "quant_group128_runs_rowblocks_bf16_vec_t256_c4");
  const std::string src = quant_kernel_source(g).source;
  EXPECT_NE(src.find("#include <fp8kit/quant/row_quant.cuh>"), std::string::npos) << src;
  EXPECT_NE(src.find("fp8kit::quant_group_runs<fp8kit::InBF16, 128, true, 256, 4, true>(p)"), std::string::npos) << src;
  EXPECT_EQ(plan_quantize(problem(4096, 7168, group(128, ScaleLayout::kColMajorTmaAligned)), 132).launches[0].grid_x,
            4096u / 16 * 14);  // row blocks of 16 rows x 14 runs of 4 groups
  // G = 32 keeps the column order (rows fastest); row-major work has no row-block order.
  EXPECT_EQ(kernel_name(plan_quantize(problem(4096, 7168, group(32, ScaleLayout::kColMajor)), 132).launches[0].config),
            "quant_group32_runs_rowsfast_bf16_vec_t256_c4");
  EXPECT_FALSE(plan_quantize(problem(4096, 7168, group(128, ScaleLayout::kRowMajor)), 132).launches[0].config.row_blocks);
  // The one-launch per-tensor kernel of a cluster carries its compile-time cluster shape.
  const QuantKernelConfig ts = plan_quantize(problem(16, 7168, spec_of(Granularity::kPerTensor)), 132).launches[0].config;
  EXPECT_EQ(kernel_name(ts), "quant_tensor_one_launch_bf16_vec_t512_c4_k8");
  EXPECT_NE(quant_kernel_source(ts).source.find("__cluster_dims__(8, 1, 1) fp8kit_entry"), std::string::npos);
}

TEST(QuantKernels, DeviceScaleFloorIsTheReferenceFloor) {
  EXPECT_EQ(std::bit_cast<std::uint32_t>(ref::kMinDynamicScale), 0x36924925u);
  const std::string header = read_file(fs::path(FP8KIT_SOURCE_DIR) / "kernels/fp8kit/quant/quant_common.cuh");
  EXPECT_NE(header.find("kMinScaleBits = 0x36924925u"), std::string::npos);
}

struct Buffers {
  std::vector<std::uint16_t> x = std::vector<std::uint16_t>(64 * 256);
  std::vector<std::uint8_t> q = std::vector<std::uint8_t>(64 * 256);
  std::vector<float> s = std::vector<float>(64 * 8);
  TensorView xv() { return TensorView::matrix(x.data(), DType::kBFloat16, 64, 256, 256); }
  TensorView qv() { return TensorView::matrix(q.data(), DType::kE4M3, 64, 256, 256); }
  TensorView sv(std::int64_t n) { return TensorView::contiguous(s.data(), DType::kFloat32, {n}); }
};

void expect_invalid(const std::function<void()>& fn, const std::vector<std::string>& words) {
  try {
    fn();
    ADD_FAILURE() << "expected fp8kit::Error mentioning " << words.front();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
  }
}

TEST(QuantKernels, ArgumentChecksNameTheArgumentAndTheRule) {
  Buffers b;
  EXPECT_NO_THROW(check_quantize_args(b.xv(), b.qv(), b.sv(64), token()));
  EXPECT_NO_THROW(check_quantize_args(b.xv(), b.qv(), b.sv(64 * 2), group(128, ScaleLayout::kColMajorTmaAligned)));
  // Rank-2 scales in the geometry's strides are accepted too.
  TensorView s2 = TensorView::contiguous(b.s.data(), DType::kFloat32, {64, 2});
  s2.strides = {1, 64};
  EXPECT_NO_THROW(check_quantize_args(b.xv(), b.qv(), s2, group(128, ScaleLayout::kColMajor)));

  TensorView x = b.xv();
  x.dtype = DType::kE4M3;
  expect_invalid([&] { check_quantize_args(x, b.qv(), b.sv(64), token()); }, {"x dtype", "e4m3"});
  TensorView q = b.qv();
  q.dtype = DType::kBFloat16;
  expect_invalid([&] { check_quantize_args(b.xv(), q, b.sv(64), token()); }, {"q dtype"});
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), b.sv(63), token()); }, {"scales", "64"});
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), b.sv(64 * 2 + 1), group(128, ScaleLayout::kRowMajor)); }, {"scales"});
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), s2, group(128, ScaleLayout::kRowMajor)); }, {"scales", "strides"});
  TensorView q_small = TensorView::matrix(b.q.data(), DType::kE4M3, 64, 128, 256);
  expect_invalid([&] { check_quantize_args(b.xv(), q_small, b.sv(64), token()); }, {"q shape"});
  TensorView x_cs = b.xv();
  x_cs.strides = {256, 2};
  x_cs.shape = {64, 128};
  TensorView q128 = TensorView::matrix(b.q.data(), DType::kE4M3, 64, 128, 128);
  expect_invalid([&] { check_quantize_args(x_cs, q128, b.sv(64), token()); }, {"x", "unit column stride"});
  TensorView x_ld = TensorView::matrix(b.x.data(), DType::kBFloat16, 32, 256, 256);
  x_ld.strides[0] = 200;
  TensorView q32 = TensorView::matrix(b.q.data(), DType::kE4M3, 32, 256, 256);
  expect_invalid([&] { check_quantize_args(x_ld, q32, b.sv(32), token()); }, {"x row stride", "200"});
  TensorView x3 = TensorView::contiguous(b.x.data(), DType::kBFloat16, {4, 16, 256});
  expect_invalid([&] { check_quantize_args(x3, b.qv(), b.sv(64), token()); }, {"x must be a matrix"});
  TensorView x_odd = TensorView::matrix(b.x.data(), DType::kBFloat16, 64, 96, 96);
  TensorView q_odd = TensorView::matrix(b.q.data(), DType::kE4M3, 64, 96, 96);
  expect_invalid([&] { check_quantize_args(x_odd, q_odd, b.sv(64 * 1), group(64, ScaleLayout::kRowMajor)); }, {"multiple of group_size"});
  TensorView x_mis = b.xv();
  x_mis.data = reinterpret_cast<char*>(b.x.data()) + 1;
  TensorView x_small = TensorView::matrix(x_mis.data, DType::kBFloat16, 8, 256, 256);
  TensorView q8 = TensorView::matrix(b.q.data(), DType::kE4M3, 8, 256, 256);
  expect_invalid([&] { check_quantize_args(x_small, q8, b.sv(8), token()); }, {"x", "aligned"});
  TensorView s_mis = b.sv(64);
  s_mis.data = reinterpret_cast<char*>(b.s.data()) + 2;
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), s_mis, token()); }, {"scales", "4-byte aligned"});
  TensorView x_null = b.xv();
  x_null.data = nullptr;
  expect_invalid([&] { check_quantize_args(x_null, b.qv(), b.sv(64), token()); }, {"x is a null pointer"});

  // Overlapping buffers.
  TensorView q_in_x = TensorView::matrix(b.x.data(), DType::kE4M3, 64, 256, 256);
  expect_invalid([&] { check_quantize_args(b.xv(), q_in_x, b.sv(64), token()); }, {"x and q overlap"});
  TensorView s_in_q = TensorView::contiguous(b.q.data(), DType::kFloat32, {64});
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), s_in_q, token()); }, {"q and scales overlap"});
  TensorView s_in_x = TensorView::contiguous(b.x.data() + 100, DType::kFloat32, {64});
  expect_invalid([&] { check_quantize_args(b.xv(), b.qv(), s_in_x, token()); }, {"x and scales overlap"});

  // M = 0 is valid and needs no pointers.
  TensorView x0 = TensorView::matrix(nullptr, DType::kBFloat16, 0, 256, 256);
  TensorView q0 = TensorView::matrix(nullptr, DType::kE4M3, 0, 256, 256);
  EXPECT_NO_THROW(check_quantize_args(x0, q0, TensorView::contiguous(nullptr, DType::kFloat32, {0}), token()));

  // prepare_block_scales
  std::vector<float> in(3 * 5), out(3 * 8);
  TensorView iv = TensorView::contiguous(in.data(), DType::kFloat32, {3, 5});
  EXPECT_NO_THROW(check_block_scale_args(iv, TensorView::contiguous(out.data(), DType::kFloat32, {3, 8})));
  EXPECT_NO_THROW(check_block_scale_args(iv, TensorView::contiguous(out.data(), DType::kFloat32, {24})));
  expect_invalid([&] { check_block_scale_args(iv, TensorView::contiguous(out.data(), DType::kFloat32, {3, 5})); },
                 {"scales_out", "round_up(5, 4)"});
  expect_invalid([&] { check_block_scale_args(iv, TensorView::contiguous(in.data(), DType::kFloat32, {12})); },
                 {"scales_out"});
}

}  // namespace
}  // namespace fp8kit::ops
