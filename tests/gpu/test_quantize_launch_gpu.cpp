// fp8kit::quantize's launch behaviour on the GPU: CUDA-graph capture replays the same bits, a
// programmatic launch waits for the kernel before it, prepare_block_scales pads its rows, and bad
// input throws before anything is launched.
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/quant.hpp"
#include "jit/kernel_loader.hpp"
#include "quant_cases.hpp"

namespace fp8kit {
namespace {

using namespace quant_test;

TEST(QuantizeGpu, GraphCaptureReplaysTheSameBits) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize graph");
  std::mt19937_64 rng(seed);
  for (const QuantSpec& spec : {spec_of(Granularity::kPerTensor), spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned),
                                spec_of(Granularity::kPerToken)}) {
    for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
      Case c;
      c.rows = 33;
      c.cols = 1024;
      c.spec = spec;
      c.impl = impl;
      SCOPED_TRACE(c.describe());
      const HostInput in = make_input(c, rng);
      const ref::QuantOutput want = ref::quantize(in.bytes.data(), c.dtype, c.rows, c.cols, c.cols, spec);
      const ScaleGeometry geo = scale_geometry(spec, c.rows, c.cols);
      cuda::DeviceBuffer dx(in.bytes.size()), dq(static_cast<std::size_t>(c.rows * c.cols)),
          ds(static_cast<std::size_t>(geo.alloc_elems) * 4);
      dx.upload(in.bytes.data(), in.bytes.size());
      const TensorView x = TensorView::matrix(dx.data(), c.dtype, c.rows, c.cols, c.cols);
      const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, c.rows, c.cols, c.cols);
      const TensorView s = TensorView::contiguous(ds.data(), DType::kFloat32, {geo.alloc_elems});
      quantize(x, q, s, spec, stream.get(), QuantizeOptions{impl});  // loads the kernels outside the capture
      stream.synchronize();
      // Two calls: with fp8kit's programmatic launches the second depends on the first through a
      // programmatic edge of the graph.
      const cuda::Graph graph = cuda::Graph::capture(stream.get(), [&] {
        for (int call = 0; call < 2; ++call) quantize(x, q, s, spec, stream.get(), QuantizeOptions{impl});
      });
      for (int rep = 0; rep < 2; ++rep) {
        dq.fill_bytes(0xFF);
        ds.fill_bytes(0xFF);
        FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
        graph.launch(stream.get());
        stream.synchronize();
        EXPECT_EQ(dq.download_all<std::uint8_t>(), want.q);
        const auto got_s = ds.download_all<float>();
        EXPECT_TRUE(first_scale_mismatch(got_s, want.scales, geo).empty()) << first_scale_mismatch(got_s, want.scales, geo);
      }
    }
  }
}

// A programmatic launch may be scheduled while the previous kernel runs. Here that kernel sleeps
// (and lets dependents launch at once), then reads the old q and only then writes x: a quantize
// kernel that touched memory before griddepcontrol.wait would quantize the stale x or overwrite q
// before it was read.
TEST(QuantizeGpu, ProgrammaticLaunchWaitsForThePreviousKernel) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize programmatic");
  std::mt19937_64 rng(seed);
  const jit::LoadedKernel& producer = jit::load_kernel(
      {"gpu_test_slow_producer",
       "#include <fp8kit/common/pdl.cuh>\n"
       "extern \"C\" __global__ void fp8kit_entry(const unsigned char* src, unsigned char* x, const unsigned char* q,\n"
       "                                          unsigned char* q_seen, unsigned long long x_bytes,\n"
       "                                          unsigned long long q_bytes, unsigned long long delay_ns) {\n"
       "  fp8kit::allow_dependent_launch();\n"
       "  unsigned long long t0, t;\n"
       "  asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t0));\n"
       "  do {\n"
       "    __nanosleep(1000);\n"
       "    asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t));\n"
       "  } while (t - t0 < delay_ns);\n"
       "  const unsigned long long stride = 1ull * gridDim.x * blockDim.x;\n"
       "  for (unsigned long long i = 1ull * blockIdx.x * blockDim.x + threadIdx.x; i < q_bytes; i += stride) q_seen[i] = q[i];\n"
       "  for (unsigned long long i = 1ull * blockIdx.x * blockDim.x + threadIdx.x; i < x_bytes; i += stride) x[i] = src[i];\n"
       "}\n"});
  struct Probe {
    QuantSpec spec;
    Shape shape;
  };
  const std::vector<Probe> probes = {{spec_of(Granularity::kPerToken), {64, 4096}},
                                     {spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned), {64, 4096}},
                                     {spec_of(Granularity::kPerGroup, 64, ScaleLayout::kRowMajor), {16, 7168}},
                                     {spec_of(Granularity::kPerTensor), {37, 4096}},  // two kernels
                                     {spec_of(Granularity::kPerTensor), {16, 7168}},  // one cluster launch
                                     {spec_of(Granularity::kBlock128), {300, 1003}}};
  for (const Probe& probe : probes) {
    Case c;
    c.rows = probe.shape.rows;
    c.cols = probe.shape.cols;
    c.spec = probe.spec;
    SCOPED_TRACE(c.describe());
    const HostInput in = make_input(c, rng);
    const ref::QuantOutput want = ref::quantize(in.bytes.data(), c.dtype, c.rows, c.cols, c.cols, c.spec);
    const ScaleGeometry geo = scale_geometry(c.spec, c.rows, c.cols);
    const std::size_t x_bytes = in.bytes.size(), q_bytes = static_cast<std::size_t>(c.rows * c.cols);
    cuda::DeviceBuffer src(x_bytes), dx(x_bytes), dq(q_bytes), q_seen(q_bytes), ds(static_cast<std::size_t>(geo.alloc_elems) * 4);
    src.upload(in.bytes.data(), x_bytes);
    std::vector<std::uint8_t> old_q(q_bytes);
    for (std::size_t i = 0; i < q_bytes; ++i) old_q[i] = static_cast<std::uint8_t>(i * 131 + 7);
    const TensorView x = TensorView::matrix(dx.data(), c.dtype, c.rows, c.cols, c.cols);
    const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, c.rows, c.cols, c.cols);
    const TensorView s = TensorView::contiguous(ds.data(), DType::kFloat32, {geo.alloc_elems});
    quantize(x, q, s, c.spec, stream.get());  // compiles and loads outside the timed sequence
    for (int rep = 0; rep < 3; ++rep) {
      dx.fill_bytes(0x7F);  // a stale input: large finite values in every dtype
      dq.upload(old_q);
      q_seen.fill_bytes(0);
      ds.fill_bytes(0xFF);
      FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
      const void* a_src = src.data();
      void* a_x = dx.data();
      const void* a_q = dq.data();
      void* a_seen = q_seen.data();
      unsigned long long a_xb = x_bytes, a_qb = q_bytes, delay_ns = 50'000;
      void* args[] = {&a_src, &a_x, &a_q, &a_seen, &a_xb, &a_qb, &delay_ns};
      producer.launch(dim3(8), dim3(256), 0, stream.get(), args);
      quantize(x, q, s, c.spec, stream.get(), QuantizeOptions{QuantImpl::kFp8kit, true});
      stream.synchronize();
      ASSERT_EQ(q_seen.download_all<std::uint8_t>(), old_q) << "quantize wrote q while the previous kernel still read it";
      std::int64_t bad = 0;
      const std::string qm = first_q_mismatch(dq.download_all<std::uint8_t>(), want.q, c.rows, c.cols, c.cols, &bad);
      ASSERT_EQ(bad, 0) << bad << " q bytes differ (quantize read x before the previous kernel wrote it?); first " << qm
                        << " (seed " << seed << ")";
      const std::string sm = first_scale_mismatch(ds.download_all<float>(), want.scales, geo);
      ASSERT_TRUE(sm.empty()) << sm << " (seed " << seed << ")";
    }
  }
}

TEST(QuantizeGpu, PrepareBlockScalesPadsRows) {
  cuda::Stream stream;
  const std::int64_t rows = 3, cols = 5, ld = 8;
  std::vector<float> in(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.25f * static_cast<float>(i + 1);
  cuda::DeviceBuffer din(in.size() * 4), dout(static_cast<std::size_t>(rows * ld) * 4);
  din.upload(in);
  dout.fill_bytes(0xFF);
  // Column-major input (strides (1, rows)).
  TensorView iv = TensorView::contiguous(din.data(), DType::kFloat32, {rows, cols});
  iv.strides = {1, rows};
  prepare_block_scales(iv, TensorView::contiguous(dout.data(), DType::kFloat32, {rows, ld}), stream.get());
  stream.synchronize();
  const auto out = dout.download_all<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < ld; ++c) {
      const float want = c < cols ? in[static_cast<std::size_t>(r + c * rows)] : 0.0f;
      EXPECT_EQ(std::bit_cast<std::uint32_t>(out[static_cast<std::size_t>(r * ld + c)]), std::bit_cast<std::uint32_t>(want))
          << r << "," << c;
    }
  }
}

TEST(QuantizeGpu, BadInputThrowsInvalidArgument) {
  cuda::Stream stream;
  cuda::DeviceBuffer dx(64 * 256 * 2), dq(64 * 256), ds(64 * 4 * 4);
  const TensorView x = TensorView::matrix(dx.data(), DType::kBFloat16, 64, 256, 256);
  const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, 64, 256, 256);
  const TensorView s = TensorView::contiguous(ds.data(), DType::kFloat32, {64});
  std::vector<std::uint16_t> host(64 * 256);
  auto expect_invalid = [&](const std::function<void()>& fn, const std::string& word) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning " << word;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(quantize(x, q, s, spec_of(Granularity::kPerToken), stream.get()));
  expect_invalid([&] { quantize(TensorView::matrix(host.data(), DType::kBFloat16, 64, 256, 256), q, s, spec_of(Granularity::kPerToken), stream.get()); },
                 "x = ");
  expect_invalid([&] { quantize(x, q, s, spec_of(Granularity::kPerGroup, 96), stream.get()); }, "group_size");
  expect_invalid([&] { quantize(x, TensorView::matrix(dx.data(), DType::kE4M3, 64, 256, 256), s, spec_of(Granularity::kPerToken), stream.get()); },
                 "overlap");
  expect_invalid([&] { quantize(x, q, TensorView::contiguous(ds.data(), DType::kFloat32, {65}), spec_of(Granularity::kPerToken), stream.get()); },
                 "scales");
  stream.synchronize();
}

}  // namespace
}  // namespace fp8kit
