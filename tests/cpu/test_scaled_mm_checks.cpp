// scaled_mm without a GPU: backend names, the support matrix, argument checks with messages that
// name the argument and the rule, and every reference-GEMM kernel compiling under NVRTC.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

#include "blas/scale_broadcast.hpp"
#include "common/test_util.hpp"
#include "core/gemm_spec.hpp"
#include "fp8kit/gemm.hpp"
#include "jit/compiler.hpp"
#include "ops/gemm_kernels.hpp"
#include "ops/scaled_mm_checks.hpp"

namespace fp8kit {
namespace {
namespace fs = std::filesystem;

constexpr ScaleModeA kModesA[] = {ScaleModeA::kTensor, ScaleModeA::kToken, ScaleModeA::kGroup128};
constexpr ScaleModeB kModesB[] = {ScaleModeB::kTensor, ScaleModeB::kChannel, ScaleModeB::kBlock128};

// Fake device addresses: the checks only look at their alignment.
void* addr(std::uintptr_t a) { return reinterpret_cast<void*>(a); }

struct Args {
  std::int64_t m = 64, n = 256, k = 512;
  ScaleModeA mode_a = ScaleModeA::kGroup128;
  ScaleModeB mode_b = ScaleModeB::kBlock128;
  TensorView a, b, scale_a, scale_b, out;
  std::optional<TensorView> bias;
  Args() { reset(); }
  void reset() {
    a = TensorView::matrix(addr(0x10000), DType::kE4M3, m, k, k);
    b = TensorView::matrix(addr(0x20000), DType::kE4M3, n, k, k);
    scale_a = TensorView::contiguous(addr(0x30000), DType::kFloat32, {scale_a_elems(mode_a, m, k)});
    scale_b = TensorView::contiguous(addr(0x40000), DType::kFloat32, {scale_b_elems(mode_b, n, k)});
    out = TensorView::matrix(addr(0x50000), DType::kBFloat16, m, n, n);
    bias.reset();
  }
  GemmShape check() const { return ops::check_scaled_mm_args(a, b, mode_a, scale_a, mode_b, scale_b, out, bias); }
};

// Runs fn, expects an invalid-argument Error whose message contains every fragment.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected fp8kit::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    for (const char* f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what() << "\n  missing: " << f;
  }
}

TEST(ScaledMmChecks, BackendNamesRoundTrip) {
  for (GemmBackend b : {GemmBackend::kAuto, GemmBackend::kCublasLt, GemmBackend::kReference, GemmBackend::kFp8kit}) {
    EXPECT_EQ(parse_gemm_backend(gemm_backend_name(b)), b);
  }
  EXPECT_EQ(gemm_backend_name(GemmBackend::kCublasLt), "cublaslt");
  expect_error([] { parse_gemm_backend("cublas"); }, {"cublas", "auto, cublaslt, reference or fp8kit"});
}

TEST(ScaledMmChecks, SupportMatrix) {
  int cublaslt = 0;
  for (ScaleModeA a : kModesA) {
    for (ScaleModeB b : kModesB) {
      EXPECT_TRUE(backend_supports(GemmBackend::kReference, a, b));
      EXPECT_TRUE(backend_supports(GemmBackend::kAuto, a, b));
      EXPECT_TRUE(backend_supports(GemmBackend::kFp8kit, a, b));  // all nine
      cublaslt += backend_supports(GemmBackend::kCublasLt, a, b);
    }
  }
  EXPECT_EQ(cublaslt, 5);
  EXPECT_TRUE(backend_supports(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kBlock128));
  EXPECT_TRUE(backend_supports(GemmBackend::kCublasLt, ScaleModeA::kToken, ScaleModeB::kTensor));
  EXPECT_TRUE(backend_supports(GemmBackend::kCublasLt, ScaleModeA::kTensor, ScaleModeB::kChannel));
  EXPECT_FALSE(backend_supports(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kChannel));
  EXPECT_FALSE(backend_supports(GemmBackend::kCublasLt, ScaleModeA::kToken, ScaleModeB::kBlock128));
}

TEST(ScaledMmChecks, AutoPicksCublasLtWhereItCanElseReference) {
  using enum GemmBackend;
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kToken, ScaleModeB::kChannel, DType::kBFloat16, std::nullopt),
            kCublasLt);
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kGroup128, ScaleModeB::kTensor, DType::kBFloat16, std::nullopt),
            kReference);
  // cuBLASLt's FP8 epilogue takes a bf16 bias for fp32 out, not an fp32 one.
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kTensor, ScaleModeB::kTensor, DType::kFloat32, DType::kFloat32),
            kReference);
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kTensor, ScaleModeB::kTensor, DType::kFloat32, DType::kBFloat16),
            kCublasLt);
  // cuBLASLt's block-scaled kernels write no fp32 on Hopper.
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kFloat32, std::nullopt),
            kReference);
  EXPECT_EQ(resolve_gemm_backend(kAuto, ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kFloat16, std::nullopt),
            kCublasLt);
  EXPECT_EQ(resolve_gemm_backend(kReference, ScaleModeA::kTensor, ScaleModeB::kTensor, DType::kFloat32, std::nullopt),
            kReference);
}

TEST(ScaledMmChecks, BackendRules) {
  const ScaledMmOptions plain;
  ScaledMmOptions fast;
  fast.fast_accum = true;
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kToken, ScaleModeB::kChannel,
                                           DType::kBFloat16, std::nullopt, fast));
  expect_error([&] { ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                              DType::kBFloat16, std::nullopt, fast); },
               {"fast_accum", "promotion"});
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kFp8kit, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                           DType::kFloat32, DType::kFloat16, plain));
  // fp8kit runs the unpromoted pairs either way: promoted every K block (exact) or fast.
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kFp8kit, ScaleModeA::kToken, ScaleModeB::kChannel,
                                           DType::kBFloat16, std::nullopt, plain));
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kFp8kit, ScaleModeA::kToken, ScaleModeB::kChannel,
                                           DType::kBFloat16, std::nullopt, fast));
  expect_error([&] { ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kChannel,
                                              DType::kBFloat16, std::nullopt, plain); },
               {"cublaslt", "does not support", "group128", "channel"});
  expect_error([&] { ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kTensor, ScaleModeB::kTensor,
                                              DType::kFloat16, DType::kBFloat16, plain); },
               {"bias", "half"});
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kReference, ScaleModeA::kTensor, ScaleModeB::kTensor,
                                           DType::kFloat16, DType::kFloat32, plain));
  expect_error([&] { ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                              DType::kFloat32, std::nullopt, plain); },
               {"cublaslt", "no float out"});
  expect_error([&] { ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                              DType::kBFloat16, std::nullopt, plain, 45); },
               {"cublaslt", "M % 4 == 0", "45"});
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kGroup128, ScaleModeB::kBlock128,
                                           DType::kBFloat16, std::nullopt, plain, 44));
  EXPECT_NO_THROW(ops::check_backend_rules(GemmBackend::kCublasLt, ScaleModeA::kToken, ScaleModeB::kChannel,
                                           DType::kBFloat16, std::nullopt, plain, 45));
}

TEST(ScaledMmChecks, GoodArgumentsPassForEveryPair) {
  for (ScaleModeA ma : kModesA) {
    for (ScaleModeB mb : kModesB) {
      Args args;
      args.mode_a = ma;
      args.mode_b = mb;
      args.m = 7;  // ragged M: group128 scales are padded to round_up(M, 4)
      args.reset();
      const GemmShape s = args.check();
      EXPECT_EQ(s.m, 7);
      EXPECT_EQ(s.n, 256);
      EXPECT_EQ(s.k, 512);
    }
  }
  Args empty;
  empty.m = 0;
  empty.reset();
  EXPECT_EQ(empty.check().m, 0);
}

TEST(ScaledMmChecks, OperandMessagesNameTheArgumentAndTheRule) {
  {
    Args x;
    x.a.dtype = DType::kBFloat16;
    expect_error([&] { x.check(); }, {"a must be e4m3"});
  }
  {
    Args x;
    x.b = TensorView::matrix(addr(0x20000), DType::kE4M3, x.n, 384, 384);
    expect_error([&] { x.check(); }, {"same K"});
  }
  {
    Args x;
    x.a.strides = {1, x.m};  // column-major A
    expect_error([&] { x.check(); }, {"a must be row-major", "K-major"});
  }
  {
    Args x;
    x.a = TensorView::matrix(addr(0x10000), DType::kE4M3, x.m, x.k, x.k + 8);
    expect_error([&] { x.check(); }, {"a row stride", "multiple of 16 bytes"});
  }
  {
    Args x;
    x.b.data = addr(0x20008);
    expect_error([&] { x.check(); }, {"b must be 16-byte aligned"});
  }
  {
    Args x;
    x.mode_a = ScaleModeA::kToken;
    x.mode_b = ScaleModeB::kChannel;
    x.k = 200;  // not a multiple of 16
    x.reset();
    expect_error([&] { x.check(); }, {"K must be a positive multiple of 16"});
  }
  {
    Args x;
    x.k = 272;  // multiple of 16, not of 128, with block scales
    x.reset();
    expect_error([&] { x.check(); }, {"K must be a multiple of 128"});
  }
}

TEST(ScaledMmChecks, ScaleOutputAndBiasMessagesNameTheArgumentAndTheRule) {
  {
    Args x;
    x.m = 63;
    x.reset();
    x.scale_a = TensorView::contiguous(addr(0x30000), DType::kFloat32, {x.m * (x.k / 128)});  // unpadded: 252
    expect_error([&] { x.check(); }, {"scale_a", "256 values", "round_up(M, 4)"});
  }
  {
    Args x;
    x.scale_b = TensorView::contiguous(addr(0x40000), DType::kFloat32, {2 * 4});  // ld 4 is right for K=512
    EXPECT_NO_THROW(x.check());
    x.k = 2304;  // K/128 = 18: ld must be 20, not 18
    x.reset();
    x.scale_b = TensorView::contiguous(addr(0x40000), DType::kFloat32, {2 * 18});
    expect_error([&] { x.check(); }, {"scale_b", "40 values", "round_up(K/128, 4)"});
  }
  {
    Args x;
    x.scale_b.dtype = DType::kBFloat16;
    expect_error([&] { x.check(); }, {"scale_b must be float"});
  }
  {
    Args x;
    x.mode_a = ScaleModeA::kToken;
    x.reset();
    x.scale_a.data = addr(0x30004);
    expect_error([&] { x.check(); }, {"scale_a must be 16-byte aligned"});
  }
  {
    Args x;
    x.out = TensorView::matrix(addr(0x50000), DType::kBFloat16, x.m, x.n + 16, x.n + 16);
    expect_error([&] { x.check(); }, {"out must be (M, N) = (64, 256)"});
  }
  {
    Args x;
    x.out.dtype = DType::kE4M3;
    expect_error([&] { x.check(); }, {"out dtype must be float, half or bfloat16"});
  }
  {
    Args x;
    x.bias = TensorView::contiguous(addr(0x60000), DType::kFloat32, {x.n - 16});
    expect_error([&] { x.check(); }, {"bias must hold 256 values"});
  }
  {
    Args x;
    x.bias = TensorView::contiguous(addr(0x60000), DType::kE4M3, {x.n});
    expect_error([&] { x.check(); }, {"bias must be float, half or bfloat16"});
  }
  {
    Args x;
    x.a.data = nullptr;
    expect_error([&] { x.check(); }, {"a is a null pointer"});
  }
}

TEST(ScaledMmChecks, MmArguments) {
  const auto a = TensorView::matrix(addr(0x10000), DType::kBFloat16, 8, 64, 64);
  const auto b = TensorView::matrix(addr(0x20000), DType::kBFloat16, 32, 64, 64);
  const auto out = TensorView::matrix(addr(0x30000), DType::kFloat32, 8, 32, 32);
  EXPECT_EQ(ops::check_mm_args(a, b, out, std::nullopt).n, 32);
  const auto half_b = TensorView::matrix(addr(0x20000), DType::kFloat16, 32, 64, 64);
  expect_error([&] { ops::check_mm_args(a, half_b, out, std::nullopt); }, {"b must be bfloat16"});
  const auto half_out = TensorView::matrix(addr(0x30000), DType::kFloat16, 8, 32, 32);
  expect_error([&] { ops::check_mm_args(a, b, half_out, std::nullopt); }, {"out must be bfloat16 or float"});
  const auto bf_bias = TensorView::contiguous(addr(0x40000), DType::kBFloat16, {32});
  expect_error([&] { ops::check_mm_args(a, b, out, bf_bias); }, {"bias must have the out dtype float"});
}

TEST(ScaledMmChecks, LinearQuantSpecMatchesTheGemmScaleLayout) {
  for (std::int64_t m : {1, 7, 64}) {
    for (ScaleModeA act : kModesA) {
      const QuantSpec spec = ops::linear_quant_spec(act);
      EXPECT_NO_THROW(validate(spec, m, 512));
      EXPECT_EQ(scale_geometry(spec, m, 512).alloc_elems, scale_a_elems(act, m, 512)) << spec.describe();
    }
  }
}

using test::TempDir;

TEST(ScaledMmChecks, EveryReferenceKernelCompilesWithoutSpills) {
  TempDir dir;
  jit::JitOptions options;
  options.cache_dir = dir.path();
  options.fail_on_spill = true;
  std::vector<jit::KernelSource> sources = ops::reference_gemm_sources();
  ASSERT_EQ(sources.size(), 27u);
  sources.push_back(blas::scale_broadcast_source());
  const auto compiled = jit::KernelCompiler(options).compile_all(sources, 0);
  ASSERT_EQ(compiled.size(), sources.size());
  std::set<std::string> names;
  for (const auto& k : compiled) {
    names.insert(k.name);
    EXPECT_GT(k.usage.registers, 0) << k.name << "\n" << k.log;
    EXPECT_FALSE(k.usage.spills()) << k.name << "\n" << k.log;
    EXPECT_EQ(k.usage.stack_frame_bytes, 0) << k.name << "\n" << k.log;
  }
  EXPECT_EQ(names.size(), sources.size());  // every kernel has its own name
  EXPECT_EQ(ops::reference_gemm_source(ScaleModeA::kGroup128, ScaleModeB::kBlock128, DType::kBFloat16).name,
            "ref_scaled_gemm_a-group128_b-block128_bf16");
}

}  // namespace
}  // namespace fp8kit
