// A JIT-compiled kernel runs and matches the CPU oracle bit for bit: the hardware E4M3 conversion
// against src/core's codec, which pins the NaN byte of DESIGN.md §3 on the real GPU.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/fp8_codec.hpp"
#include "cuda/driver.hpp"
#include "cuda/resources.hpp"
#include "gpu_test_util.hpp"
#include "jit/compiler.hpp"
#include "jit/kernel_loader.hpp"

namespace fp8kit {
namespace {

jit::KernelSource conversion_kernel() {
  return {"gpu_test_fp8_convert",
          "#include <fp8kit/common/fp8.cuh>\n"
          "extern \"C\" __global__ void fp8kit_entry(const float* x, fp8kit::u8* e4m3, fp8kit::u8* e5m2, float* back, int n) {\n"
          "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
          "  if (i < n) {\n"
          "    e4m3[i] = fp8kit::e4m3_from_float(x[i]);\n"
          "    e5m2[i] = fp8kit::e5m2_from_float(x[i]);\n"
          "    back[i] = fp8kit::e4m3_to_float(static_cast<fp8kit::u8>(i & 0xFF));\n"
          "  }\n"
          "}\n"};
}

// Every bf16 bit pattern as fp32 (all exponents, NaN, Inf, subnormals), every E4M3 value, the
// midpoints between neighbouring E4M3 and E5M2 values and their float neighbours, and random floats.
std::vector<float> conversion_inputs(std::uint64_t seed) {
  std::vector<float> x;
  for (std::uint32_t b = 0; b < 65536; ++b) x.push_back(std::bit_cast<float>(b << 16));
  for (int c = 0; c < 256; ++c) x.push_back(e4m3_to_float(static_cast<std::uint8_t>(c)));
  auto add_midpoints = [&](float (*decode)(std::uint8_t), int max_code) {
    for (int c = 0; c < max_code; ++c) {
      for (int sign : {0, 0x80}) {
        const float a = decode(static_cast<std::uint8_t>(c | sign));
        const float b = decode(static_cast<std::uint8_t>((c + 1) | sign));
        const float mid = 0.5f * (a + b);  // exact: neighbours differ by one ulp of 3 or 2 bits
        x.insert(x.end(), {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f * (sign ? -1.0f : 1.0f))});
      }
    }
  };
  add_midpoints(e4m3_to_float, 0x7E);
  add_midpoints(e5m2_to_float, 0x7B);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < (1 << 20); ++i) x.push_back(std::bit_cast<float>(bits(rng)));
  return x;
}

TEST(JitGpu, HardwareFp8ConversionMatchesTheCpuCodecBitForBit) {
  const std::vector<float> x = conversion_inputs(test::fresh_seed("fp8 conversion"));
  const int n = static_cast<int>(x.size());
  cuda::DeviceBuffer dx(x.size() * 4), d4(x.size()), d5(x.size()), dback(x.size() * 4);
  dx.upload(x);
  d4.fill_bytes(0xAA);
  d5.fill_bytes(0xAA);
  dback.fill_bytes(0xFF);
  const jit::LoadedKernel& k = jit::load_kernel(conversion_kernel());
  cuda::Stream stream;
  struct {
    const float* x;
    std::uint8_t* e4m3;
    std::uint8_t* e5m2;
    float* back;
    int n;
  } args{dx.as<float>(), d4.as<std::uint8_t>(), d5.as<std::uint8_t>(), dback.as<float>(), n};
  void* argv[] = {&args.x, &args.e4m3, &args.e5m2, &args.back, &args.n};
  k.launch(dim3(static_cast<unsigned>((n + 255) / 256)), dim3(256), 0, stream.get(), argv);
  stream.synchronize();
  const auto e4 = d4.download_all<std::uint8_t>();
  const auto e5 = d5.download_all<std::uint8_t>();
  const auto back = dback.download_all<float>();

  int mismatches = 0;
  for (int i = 0; i < n && mismatches < 10; ++i) {
    const std::uint8_t want4 = e4m3_from_float(x[static_cast<std::size_t>(i)]);
    const std::uint8_t want5 = e5m2_from_float(x[static_cast<std::size_t>(i)]);
    if (e4[static_cast<std::size_t>(i)] != want4 || e5[static_cast<std::size_t>(i)] != want5) {
      ++mismatches;
      ADD_FAILURE() << "x = " << x[static_cast<std::size_t>(i)] << " (bits 0x" << std::hex
                    << std::bit_cast<std::uint32_t>(x[static_cast<std::size_t>(i)]) << "): GPU e4m3 0x"
                    << int(e4[static_cast<std::size_t>(i)]) << " CPU 0x" << int(want4) << ", GPU e5m2 0x"
                    << int(e5[static_cast<std::size_t>(i)]) << " CPU 0x" << int(want5);
    }
  }
  EXPECT_EQ(mismatches, 0);
  for (int c = 0; c < 256; ++c) {
    const float want = e4m3_to_float(static_cast<std::uint8_t>(c));
    const float got = back[static_cast<std::size_t>(c)];
    EXPECT_TRUE(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(want) || (std::isnan(got) && std::isnan(want)))
        << "decode of 0x" << std::hex << c;
  }
  // The bytes DESIGN.md §3 pins, as an H200 writes them (2026-11-21): every NaN, whatever its
  // sign, becomes 0x7F; the sign is not kept.
  const std::size_t pos_nan = 0x7FC0, neg_nan = 0xFFC0;  // bf16 patterns of +NaN and -NaN
  ASSERT_TRUE(std::isnan(x[pos_nan]) && std::isnan(x[neg_nan]));
  EXPECT_EQ(e4[pos_nan], 0x7F);
  EXPECT_EQ(e4[neg_nan], 0x7F);
  EXPECT_EQ(e5[neg_nan], 0x7F);
  EXPECT_EQ(e4[0x7F80], 0x7E);  // +Inf saturates to +448
  EXPECT_EQ(e4[0xFF80], 0xFE);
}

TEST(JitGpu, DiskCacheIsReusedByANewCompiler) {
  test::TempDir dir;
  jit::JitOptions options = jit::global_options();
  options.cache_dir = dir.path();
  const jit::CompiledKernel first = jit::KernelCompiler(options).compile(conversion_kernel());
  const jit::CompiledKernel second = jit::KernelCompiler(options).compile(conversion_kernel());
  EXPECT_FALSE(first.from_disk_cache);
  EXPECT_TRUE(second.from_disk_cache);
  jit::LoadedKernel loaded(second, "fp8kit_entry");  // the cached cubin loads and has the entry
  EXPECT_TRUE(loaded.from_disk_cache());
  EXPECT_THROW(jit::LoadedKernel(second, "no_such_entry"), Error);
}

TEST(JitGpu, DriverEntryPointsResolveWithoutLinkingLibcuda) {
  EXPECT_NE(cuda::driver_entry_point("cuTensorMapEncodeTiled", 12000), nullptr);
  EXPECT_THROW(cuda::driver_entry_point("cuNoSuchFunction", 12000), Error);
}

}  // namespace
}  // namespace fp8kit
