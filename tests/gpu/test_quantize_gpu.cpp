// fp8kit::quantize on the GPU equals the CPU reference bit for bit (DESIGN.md §3): every mode x
// layout x dtype x option x implementation, on random and adversarial data, with row strides,
// misaligned rows, M = 0/1, M not a multiple of 4; outputs poisoned before each run; each case run
// twice. Plus CUDA-graph capture, bad input, and (printed, not asserted) bandwidth numbers.
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/ceilings.hpp"
#include "bench/timing.hpp"
#include "core/fp8_codec.hpp"
#include "core/ref_quant.hpp"
#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/quant.hpp"
#include "gpu_test_util.hpp"
#include "jit/kernel_loader.hpp"
#include "ops/quant_kernels.hpp"

namespace fp8kit {
namespace {

bool sanitized() { return std::getenv("FP8KIT_UNDER_SANITIZER") != nullptr; }

QuantSpec spec_of(Granularity g, int group = 128, ScaleLayout layout = ScaleLayout::kRowMajor) {
  QuantSpec s;
  s.granularity = g;
  s.group_size = group;
  s.layout = layout;
  return s;
}

enum class Data { kRandom, kAdversarial };

struct Case {
  DType dtype = DType::kBFloat16;
  std::int64_t rows = 0, cols = 0;
  std::int64_t x_pad = 0;   // x row stride = cols + x_pad
  std::int64_t q_pad = 0;   // q row stride = cols + q_pad
  std::int64_t x_shift = 0; // elements between the allocation and x (misaligned base)
  QuantSpec spec;
  QuantImpl impl = QuantImpl::kFp8kit;
  Data data = Data::kRandom;

  std::string describe() const {
    return fmt::format("{} {} ({}, {}) x_ld+{} q_ld+{} shift {} {} {}", quant_impl_name(impl), dtype_name(dtype), rows,
                       cols, x_pad, q_pad, x_shift, spec.describe(), data == Data::kRandom ? "random" : "adversarial");
  }
};

std::uint32_t encode(float v, DType d) {
  switch (d) {
    case DType::kFloat32:
      return std::bit_cast<std::uint32_t>(v);
    case DType::kFloat16:
      return half_from_float(v);
    default:
      return bf16_from_float(v);
  }
}

// Host input as raw element bits (16 or 32 bit), rows x ld.
struct HostInput {
  std::vector<std::uint32_t> bits;  // one per element; stored narrowed to the dtype's width
  std::vector<unsigned char> bytes;
};

HostInput make_input(const Case& c, std::mt19937_64& rng) {
  const std::int64_t ld = c.cols + c.x_pad;
  const std::size_t esize = dtype_size(c.dtype);
  HostInput h;
  h.bytes.assign(static_cast<std::size_t>(c.rows * ld + 1) * esize, 0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> expo(-12, 12);
  std::uniform_int_distribution<int> pick(0, 1 << 30);
  // Midpoints between neighbouring E4M3 values (exact in all three dtypes).
  std::vector<float> mids;
  for (int code = 0; code < 0x7E; ++code) mids.push_back(0.5f * (e4m3_to_float(std::uint8_t(code)) + e4m3_to_float(std::uint8_t(code + 1))));
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto put = [&](std::int64_t r, std::int64_t col, std::uint32_t bits) {
    const std::size_t off = static_cast<std::size_t>(r * ld + col) * esize;
    std::memcpy(h.bytes.data() + off, &bits, esize);  // little-endian: the low bytes
  };
  auto subnormal_bits = [&]() -> std::uint32_t {
    const std::uint32_t m = static_cast<std::uint32_t>(pick(rng));
    const std::uint32_t sign = (m >> 20) & 1;
    if (c.dtype == DType::kFloat16) return (sign << 15) | (m & 0x3FF) | 1;
    if (c.dtype == DType::kBFloat16) return (sign << 15) | (m & 0x7F) | 1;
    return (sign << 31) | (m & 0x7FFFFF) | 1;
  };
  const float big = c.dtype == DType::kFloat16 ? 65504.0f : 3.0e38f;
  for (std::int64_t r = 0; r < c.rows; ++r) {
    const float mag = std::ldexp(1.0f, expo(rng));
    const int pattern = c.data == Data::kRandom ? -1 : static_cast<int>(r % 12);
    for (std::int64_t col = 0; col < c.cols; ++col) {
      // Some patterns hold per 32-element segment so that per-group cells see them too.
      const std::int64_t seg = col / 32;
      float v = normal(rng) * mag;
      switch (pattern) {
        case 0: v = 0.0f; break;                                        // all-zero row
        case 1: v = normal(rng) * 1e-4f; break;                         // amax below 1/512
        case 2: v = (col == 0 ? 448.0f : mids[static_cast<std::size_t>(pick(rng)) % mids.size()] * (pick(rng) % 2 ? 1.0f : -1.0f)); break;
        case 3: v = (col % 7 == 0 ? 448.0f * (col % 2 ? -1.0f : 1.0f) : v * 300.0f); break;  // +-448 and beyond
        case 4: if (pick(rng) % 97 == 0) v = (pick(rng) % 2 ? inf : -inf); break;
        case 5: if (pick(rng) % 13 == 0) v = nan; break;
        case 6: put(r, col, subnormal_bits()); continue;                 // subnormal inputs
        case 7: v = (seg % 3 == 0) ? 0.0f : (seg % 3 == 1 ? nan : v); break;  // zero and all-NaN groups
        case 8: v = (col % 5 == 0 ? big : v); break;                     // largest finite
        case 9: v = (seg % 4 == 1 ? (col % 32 == 3 ? inf : v) : v * 1e-6f); break;  // Inf in one group
        case 10: v = mids[static_cast<std::size_t>(col) % mids.size()] * 2.0f * ((col / 3) % 2 ? -1.0f : 1.0f); break;
        default: break;
      }
      put(r, col, encode(v, c.dtype));
    }
  }
  return h;
}

// Static scales in the spec's layout (padding 0): around amax / 448, some far smaller to
// saturate, some exactly 1.
std::vector<float> make_static_scales(const Case& c, std::mt19937_64& rng) {
  const ScaleGeometry geo = scale_geometry(c.spec, c.rows, c.cols);
  std::vector<float> s(static_cast<std::size_t>(geo.alloc_elems), 0.0f);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  std::uniform_int_distribution<int> e(-14, 2);
  int i = 0;
  for (std::int64_t r = 0; r < geo.rows; ++r) {
    for (std::int64_t cc = 0; cc < geo.cols; ++cc, ++i) {
      s[static_cast<std::size_t>(geo.offset(r, cc))] = i % 5 == 0 ? 1.0f : u(rng) * std::ldexp(1.0f, e(rng));
    }
  }
  return s;
}

std::string first_q_mismatch(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want, std::int64_t rows,
                             std::int64_t cols, std::int64_t q_ld, std::int64_t* count) {
  std::string first;
  *count = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < q_ld; ++c) {
      const std::uint8_t g = got[static_cast<std::size_t>(r * q_ld + c)];
      const std::uint8_t w = c < cols ? want[static_cast<std::size_t>(r * cols + c)] : std::uint8_t{0xFF};  // gaps untouched
      if (g != w) {
        if ((*count)++ == 0) first = fmt::format("q at (row {}, col {}): byte got 0x{:02x}, expected 0x{:02x}", r, c, g, w);
      }
    }
  }
  return first;
}

std::string first_scale_mismatch(const std::vector<float>& got, const std::vector<float>& want, const ScaleGeometry& geo) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want[i])) {
      const std::int64_t idx = static_cast<std::int64_t>(i);
      const std::int64_t r = geo.row_stride == 1 && geo.col_stride != 1 ? idx % geo.col_stride : idx / std::max<std::int64_t>(geo.row_stride, 1);
      return fmt::format("scale entry {} (about scale row {}): got {} (0x{:08x}), expected {} (0x{:08x})", i, r, got[i],
                         std::bit_cast<std::uint32_t>(got[i]), want[i], std::bit_cast<std::uint32_t>(want[i]));
    }
  }
  return {};
}

// Runs one case twice on the GPU and compares with ref::quantize. Returns "" when equal.
void run_case(const Case& c, std::uint64_t seed, cuda::Stream& stream) {
  SCOPED_TRACE(c.describe());
  std::mt19937_64 rng(seed);
  const HostInput in = make_input(c, rng);
  const std::size_t esize = dtype_size(c.dtype);
  const std::int64_t x_ld = c.cols + c.x_pad, q_ld = c.cols + c.q_pad;
  const ScaleGeometry geo = scale_geometry(c.spec, c.rows, c.cols);
  std::vector<float> statics;
  if (c.spec.static_scales) statics = make_static_scales(c, rng);
  const ref::QuantOutput want = ref::quantize(in.bytes.data(), c.dtype, c.rows, c.cols, x_ld, c.spec, statics);

  cuda::DeviceBuffer dx(in.bytes.size() + 16);
  cuda::DeviceBuffer dq(static_cast<std::size_t>(std::max<std::int64_t>(c.rows * q_ld, 1)));
  cuda::DeviceBuffer ds(static_cast<std::size_t>(std::max<std::int64_t>(geo.alloc_elems, 1)) * 4);
  dx.upload(in.bytes.data(), in.bytes.size(), static_cast<std::size_t>(c.x_shift) * esize);
  void* x_ptr = static_cast<char*>(dx.data()) + c.x_shift * static_cast<std::int64_t>(esize);
  const TensorView x = TensorView::matrix(x_ptr, c.dtype, c.rows, c.cols, x_ld);
  const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, c.rows, c.cols, q_ld);
  const TensorView s = TensorView::contiguous(ds.data(), DType::kFloat32, {geo.alloc_elems});

  std::vector<std::uint8_t> first_q;
  std::vector<float> first_s;
  for (int run = 0; run < 2; ++run) {
    dq.fill_bytes(0xFF);  // 0xFF is never written (NaN encodes as 0x7F)
    if (c.spec.static_scales) {
      ds.upload(statics);
    } else {
      ds.fill_bytes(0xFF);  // NaN
    }
    // fill_bytes and upload run on the legacy default stream, which a non-blocking stream does not
    // wait for: finish them before quantizing.
    FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
    quantize(x, q, s, c.spec, stream.get(), QuantizeOptions{c.impl});
    stream.synchronize();
    const auto got_q = dq.download_all<std::uint8_t>();
    const auto got_s = ds.download_all<float>();
    if (c.rows == 0) {
      for (std::uint8_t b : got_q) ASSERT_EQ(b, 0xFF) << "M = 0 wrote q";
      if (!c.spec.static_scales) {
        for (float v : got_s) ASSERT_TRUE(std::isnan(v)) << "M = 0 wrote scales";
      }
      return;
    }
    std::int64_t bad = 0;
    const std::string qm = first_q_mismatch(got_q, want.q, c.rows, c.cols, q_ld, &bad);
    ASSERT_EQ(bad, 0) << "run " << run << ": " << bad << " q bytes differ; first " << qm << " (seed " << seed << ")";
    const std::string sm = first_scale_mismatch(got_s, c.spec.static_scales ? statics : want.scales, geo);
    ASSERT_TRUE(sm.empty()) << "run " << run << ": " << sm << " (seed " << seed << ")";
    if (run == 0) {
      first_q = got_q;
      first_s = got_s;
    } else {
      ASSERT_EQ(std::memcmp(first_q.data(), got_q.data(), got_q.size()), 0) << "two runs differ";
      ASSERT_EQ(std::memcmp(first_s.data(), got_s.data(), got_s.size() * 4), 0) << "two runs differ";
    }
  }
}

struct Shape {
  std::int64_t rows, cols;
};

std::vector<QuantSpec> all_specs() {
  std::vector<QuantSpec> specs;
  for (bool ue8m0 : {false, true}) {
    for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken, Granularity::kPerChannel, Granularity::kBlock128}) {
      QuantSpec s = spec_of(g);
      s.ue8m0 = ue8m0;
      specs.push_back(s);
    }
    QuantSpec ub = spec_of(Granularity::kPerToken);
    ub.ue8m0 = ue8m0;
    ub.scale_ub = 3.5f;
    specs.push_back(ub);
    for (int g : {32, 64, 128}) {
      for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
        QuantSpec s = spec_of(Granularity::kPerGroup, g, l);
        s.ue8m0 = ue8m0;
        specs.push_back(s);
      }
    }
  }
  for (Granularity g : {Granularity::kPerTensor, Granularity::kPerToken}) {
    QuantSpec s = spec_of(g);
    s.static_scales = true;
    specs.push_back(s);
  }
  for (int g : {32, 128}) {
    for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      QuantSpec s = spec_of(Granularity::kPerGroup, g, l);
      s.static_scales = true;
      specs.push_back(s);
    }
  }
  return specs;
}

// Shapes per granularity: each token kernel shape (first generation: warp c1/c2/c4, block
// c2/c4/c8, two-read loop; second: warp2 c1/c2/c4, block2 c4 at 128 and c8 at 128, 256 and 512 threads), K not a
// multiple of 8 (first generation only), ragged 128x128 edges, M not a multiple of 4.
std::vector<Shape> shapes_for(const QuantSpec& s) {
  switch (s.granularity) {
    // Even positions run aligned (one launch: cluster 1 at 896 and 2048, 8 at 16 x 4096 and
    // 16 x 7168; two passes at 37 x 4096), odd ones unaligned (the first generation).
    case Granularity::kPerTensor:
      return {{1, 896}, {5, 1003}, {37, 4096}, {1, 7}, {16, 7168}, {2, 9}, {3, 2048}, {7, 33}, {16, 4096}};
    case Granularity::kPerToken:
    case Granularity::kPerChannel:
      return {{1, 200}, {5, 512}, {7, 1016}, {9, 1003}, {3, 4096}, {6, 7168}, {2, 12290}, {4, 16000}, {3, 32000}, {2, 20001}};
    case Granularity::kPerGroup:
      return {{1, 384}, {5, 384}, {37, 1024}, {130, 896}};
    case Granularity::kBlock128:
      return {{1, 100}, {130, 260}, {300, 1003}, {256, 512}};
  }
  return {};
}

TEST(QuantizeGpu, EveryModeLayoutDtypeAndImplIsBitExact) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize modes");
  std::mt19937_64 seeds(seed);
  int cases = 0;
  for (const QuantSpec& spec : all_specs()) {
    for (DType d : {DType::kBFloat16, DType::kFloat16, DType::kFloat32}) {
      for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
        int variant = 0;
        for (const Shape& sh : shapes_for(spec)) {
          for (Data data : {Data::kRandom, Data::kAdversarial}) {
            Case c;
            c.dtype = d;
            c.rows = sh.rows;
            c.cols = sh.cols;
            c.spec = spec;
            c.impl = impl;
            c.data = data;
            // Rotate the layouts of x and q: contiguous, padded aligned rows, unaligned rows,
            // misaligned base.
            switch (variant++ % 4) {
              case 1: c.x_pad = 8; c.q_pad = 16; break;
              case 2: c.x_pad = 3; c.q_pad = 5; break;
              case 3: c.x_shift = 1; break;
              default: break;
            }
            run_case(c, seeds(), stream);
            if (HasFatalFailure()) return;
            ++cases;
          }
        }
      }
    }
  }
  std::printf("%d cases bit-exact\n", cases);
}

TEST(QuantizeGpu, LargeShapesAreBitExact) {
  cuda::Stream stream;
  const std::uint64_t seed = test::fresh_seed("quantize large");
  std::mt19937_64 seeds(seed);
  const std::int64_t m = sanitized() ? 512 : 4096;
  std::vector<QuantSpec> specs = {spec_of(Granularity::kPerToken), spec_of(Granularity::kPerTensor),
                                  spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned),
                                  spec_of(Granularity::kPerGroup, 64, ScaleLayout::kRowMajor), spec_of(Granularity::kBlock128)};
  specs[2].ue8m0 = true;
  for (const QuantSpec& spec : specs) {
    for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
      Case c;
      c.dtype = DType::kBFloat16;
      c.rows = spec.granularity == Granularity::kBlock128 ? 7168 : m;
      c.cols = 7168;
      c.spec = spec;
      c.impl = impl;
      if (sanitized() && spec.granularity == Granularity::kBlock128) c.rows = 1000;
      run_case(c, seeds(), stream);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(QuantizeGpu, EmptyInputWritesNothing) {
  cuda::Stream stream;
  for (const QuantSpec& spec : {spec_of(Granularity::kPerToken), spec_of(Granularity::kPerTensor),
                                spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned)}) {
    for (QuantImpl impl : {QuantImpl::kFp8kit, QuantImpl::kNaive}) {
      Case c;
      c.rows = 0;
      c.cols = 512;
      c.spec = spec;
      c.impl = impl;
      run_case(c, 1, stream);
    }
  }
}

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

// Bandwidth of the fused kernels against the copy ceiling, and small-M latency against an empty
// kernel: printed for docs/PERF.md, never asserted (DESIGN.md §6: no timed tests). Each row is one
// kernel plan: "gen1" the first-generation kernels, "gen2"/"gen3" the heuristic's pick, "genN-vN"
// a listed alternative, "rbN-vN" column-major's block order, "*-pdl"/"pdl-*" launched
// programmatically; every plan's output is checked bit for bit against gen1's on the same input
// (gen1 itself is checked against the CPU reference by LargeShapesAreBitExact and the mode test).
struct BenchPlan {
  std::string label;
  ops::QuantPlan plan;
  std::vector<const jit::LoadedKernel*> kernels;
  jit::LaunchOrder order = jit::LaunchOrder::kSerial;
};

BenchPlan bench_plan(std::string label, const ops::QuantProblem& pr, int sms, const void* x, void* q, void* s) {
  BenchPlan b;
  b.label = std::move(label);
  b.plan = ops::plan_quantize(pr, sms);
  b.plan.params.x = x;
  b.plan.params.q = static_cast<std::uint8_t*>(q);
  b.plan.params.scales = static_cast<float*>(s);
  for (int i = 0; i < b.plan.launch_count; ++i) {
    b.kernels.push_back(&jit::load_kernel(ops::quant_kernel_source(b.plan.launches[static_cast<std::size_t>(i)].config)));
  }
  return b;
}

void launch_bench_plan(const BenchPlan& b, cudaStream_t st) {
  if (b.plan.zero_scale0) FP8KIT_CUDA_CHECK(cudaMemsetAsync(b.plan.params.scales, 0, sizeof(float), st));
  for (int i = 0; i < b.plan.launch_count; ++i) {
    const ops::QuantLaunch& l = b.plan.launches[static_cast<std::size_t>(i)];
    ops::QuantParams params = b.plan.params;
    params.items = l.items;
    params.atomic_amax = l.atomic_amax;
    b.kernels[static_cast<std::size_t>(i)]->launch_with(dim3(l.grid_x, l.grid_y), dim3(l.threads), 0, st, params, b.order);
  }
}

std::string plan_names(const ops::QuantPlan& plan) {
  std::string n;
  for (int i = 0; i < plan.launch_count; ++i) {
    const ops::QuantLaunch& l = plan.launches[static_cast<std::size_t>(i)];
    n += fmt::format("{}{}[{}x{}]", i ? " + " : "", ops::kernel_name(l.config), l.grid_x * l.grid_y, l.threads);
  }
  return n;
}

TEST(QuantizeGpu, PrintBandwidth) {
  if (sanitized()) GTEST_SKIP() << "timings mean nothing under the sanitizer";
  cuda::Stream stream;
  int device = 0, sms = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  FP8KIT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const bench::CopyMeasurement copy = bench::measure_copy_bandwidth(stream.get());  // 256 MiB, as info --measure
  std::printf("copy ceiling: %.0f GB/s (%s)\n", copy.gbps, copy.best.c_str());
  const Summary te = bench::measure_launch_floor(stream.get(), jit::LaunchOrder::kSerial);
  const Summary te_pdl = bench::measure_launch_floor(stream.get(), jit::LaunchOrder::kProgrammatic);
  std::printf("empty kernel: %.2f us per call (graph replay), %.2f us launched programmatically\n", te.median, te_pdl.median);
  // The least any one-launch quantize can take at small M: one 16-byte load and one dependent
  // 8-byte store a thread (the bytes of bf16 in, E4M3 out), no arithmetic.
  const jit::LoadedKernel& touch = jit::load_kernel(
      {"gpu_test_load_store_kernel",
       "#include <fp8kit/common/pdl.cuh>\n"
       "extern \"C\" __global__ void fp8kit_entry(const char* x, char* q, unsigned n) {\n"
       "  fp8kit::wait_prior_grid_and_release_next();\n"
       "  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;\n"
       "  if (i >= n) return;\n"
       "  unsigned a, b, c, d;\n"
       "  asm volatile(\"ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];\" : \"=r\"(a), \"=r\"(b), \"=r\"(c), \"=r\"(d) : \"l\"(x + 16ull * i));\n"
       "  asm volatile(\"st.global.v2.u32 [%0], {%1, %2};\" :: \"l\"(q + 8ull * i), \"r\"(a ^ b), \"r\"(c ^ d) : \"memory\");\n"
       "}\n"});
  for (const Shape sh : {Shape{1, 896}, Shape{1, 4096}, Shape{16, 4096}, Shape{16, 7168}, Shape{4096, 7168}, Shape{8192, 4096},
                         Shape{8192, 7168}}) {
    cuda::DeviceBuffer bx(static_cast<std::size_t>(sh.rows * sh.cols) * 2), bq(static_cast<std::size_t>(sh.rows * sh.cols));
    bx.fill_bytes(0x3C);
    FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
    const void* xp = bx.data();
    void* qp = bq.data();
    unsigned n = static_cast<unsigned>(sh.rows * sh.cols / 8);
    void* args[] = {&xp, &qp, &n};
    auto time_touch = [&](jit::LaunchOrder order, unsigned threads) {
      return bench::time_launches(
          [&](cudaStream_t st, int) {
            touch.launch(dim3((n + threads - 1) / threads), dim3(std::min(n, threads)), 0, st, args, order);
          },
          1, stream.get());
    };
    const Summary tl = time_touch(jit::LaunchOrder::kSerial, 256);
    const Summary tl_pdl = time_touch(jit::LaunchOrder::kProgrammatic, 256);
    const double gbps = static_cast<double>(sh.rows * sh.cols) * 3.0 / (tl.median * 1e3);
    std::printf("load+store floor %5lld x %5lld: %.2f us per call (%.2f x empty), %.0f GB/s = %.1f%% of copy; "
                "programmatic launches %.2f us (%.2f x empty)",
                static_cast<long long>(sh.rows), static_cast<long long>(sh.cols), tl.median, tl.median / te.median, gbps,
                100.0 * gbps / copy.gbps, tl_pdl.median, tl_pdl.median / te.median);
    if (sh.rows <= 16) {  // does the number of CTAs matter at the same bytes?
      const unsigned ctas256 = (n + 255) / 256;
      std::printf(", %u CTAs; 1024-thread CTAs (%u) %.2f us", ctas256, (n + 1023) / 1024,
                  time_touch(jit::LaunchOrder::kProgrammatic, 1024).median);
    }
    std::printf("\n");
  }

  struct Mode {
    const char* name;
    QuantSpec spec;
  };
  std::vector<Mode> modes = {{"per-token", spec_of(Granularity::kPerToken)},
                             {"group64 row-major", spec_of(Granularity::kPerGroup, 64)},
                             {"group128 row-major", spec_of(Granularity::kPerGroup, 128)},
                             {"group64 col-major-tma", spec_of(Granularity::kPerGroup, 64, ScaleLayout::kColMajorTmaAligned)},
                             {"group128 col-major-tma", spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajorTmaAligned)},
                             {"group128 col-major", spec_of(Granularity::kPerGroup, 128, ScaleLayout::kColMajor)},
                             {"per-tensor", spec_of(Granularity::kPerTensor)},
                             {"block128", spec_of(Granularity::kBlock128)}};
  bench::TimingConfig quick;  // about 300 plans: shorter replays than the benchmark's
  quick.samples = 11;
  quick.target_replay_ms = 3;
  std::mt19937_64 rng(7);
  std::vector<std::string> table;
  table.push_back(fmt::format("{:<23} {:<8} {:>5} {:>5} {:>8} {:>6} {:>6} {:>6} {:>7}", "mode", "plan", "M", "K", "us", "GB/s",
                              "%copy", "xgen1", "xempty"));
  for (const Shape sh : {Shape{4096, 7168}, Shape{8192, 4096}, Shape{8192, 7168}, Shape{16, 7168}, Shape{16, 4096}, Shape{1, 4096}, Shape{16, 896},
                         Shape{1, 896}}) {
    Case c;
    c.rows = sh.rows;
    c.cols = sh.cols;
    const HostInput in = make_input(c, rng);
    cuda::DeviceBuffer dx(in.bytes.size()), dq(static_cast<std::size_t>(sh.rows * sh.cols));
    dx.upload(in.bytes.data(), in.bytes.size());
    for (const Mode& mode : modes) {
      const ScaleGeometry geo = scale_geometry(mode.spec, sh.rows, sh.cols);
      cuda::DeviceBuffer ds(static_cast<std::size_t>(geo.alloc_elems) * 4);
      const double reads = mode.spec.granularity == Granularity::kPerTensor ? 2.0 : 1.0;  // the two-read floor
      const double bytes = static_cast<double>(sh.rows * sh.cols) * (2.0 * reads + 1.0) + static_cast<double>(geo.alloc_elems) * 4.0;
      ops::QuantProblem pr;
      pr.input = DType::kBFloat16;
      pr.rows = sh.rows;
      pr.cols = sh.cols;
      pr.x_ld = sh.cols;
      pr.q_ld = sh.cols;
      pr.spec = mode.spec;
      std::vector<BenchPlan> plans;
      pr.tuning.generation = 1;
      plans.push_back(bench_plan("gen1", pr, sms, dx.data(), dq.data(), ds.data()));
      const bool tunable = mode.spec.granularity == Granularity::kPerToken || mode.spec.granularity == Granularity::kPerGroup;
      for (int gen : {2, 3}) {
        pr.tuning.generation = gen;
        plans.push_back(bench_plan(fmt::format("gen{}", gen), pr, sms, dx.data(), dq.data(), ds.data()));
        const std::string pick = plan_names(plans.back().plan);
        if (gen == 3 && plan_names(plans[plans.size() - 2].plan) == pick) continue;  // gen3 = gen2 here
        if (tunable && sh.rows >= 16 && (gen == 3 || mode.spec.layout != ScaleLayout::kColMajor)) {
          for (int v : {2, 4, 8}) {
            pr.tuning.vecs = v;
            BenchPlan b = bench_plan(fmt::format("gen{}-v{}", gen, v), pr, sms, dx.data(), dq.data(), ds.data());
            if (plan_names(b.plan) != pick) plans.push_back(std::move(b));
          }
          pr.tuning.vecs = 0;
        }
      }
      // Column-major per-group: the row-block order and its runs (bf16 lists them).
      if (mode.spec.granularity == Granularity::kPerGroup && mode.spec.layout != ScaleLayout::kRowMajor && sh.rows >= 16) {
        pr.tuning.generation = 3;
        for (int rb : {0, 1}) {
          for (int v : {0, 4, 8}) {
            pr.tuning.row_blocks = rb;
            pr.tuning.vecs = v;
            BenchPlan b = bench_plan(fmt::format("rb{}-v{}", rb, v), pr, sms, dx.data(), dq.data(), ds.data());
            bool seen = false;
            for (const BenchPlan& o : plans) seen = seen || plan_names(o.plan) == plan_names(b.plan);
            if (!seen) plans.push_back(std::move(b));
          }
        }
        pr.tuning.row_blocks = -1;
        pr.tuning.vecs = 0;
      }
      // Small M: the heuristic's plan launched programmatically, as fp8kit::quantize does, and
      // per-group's runs of 2 in 256-thread blocks (what tiny grids took before runs of 1 in 128).
      if (sh.rows <= 16) {
        pr.tuning.generation = 3;
        for (int v : {0, 2}) {
          pr.tuning.vecs = v;
          BenchPlan b = bench_plan(v ? "pdl-v2" : "gen3-pdl", pr, sms, dx.data(), dq.data(), ds.data());
          b.order = jit::LaunchOrder::kProgrammatic;
          if (v == 0 || plan_names(b.plan) != plan_names(plans.back().plan)) plans.push_back(std::move(b));
        }
        pr.tuning.vecs = 0;
      }
      // Dynamic per-tensor in two passes: each pass alone too (the amax pass with its zeroing).
      for (std::size_t i = 0, n = plans.size(); i < n; ++i) {
        if (mode.spec.granularity != Granularity::kPerTensor || plans[i].plan.launch_count != 2) continue;
        for (int pass = 0; pass < 2; ++pass) {
          BenchPlan b = plans[i];
          b.label += pass == 0 ? ".amax" : ".cast";
          b.plan.zero_scale0 = pass == 0;
          b.plan.launch_count = 1;
          if (pass == 1) {
            b.plan.launches[0] = b.plan.launches[1];
            b.kernels.erase(b.kernels.begin());
          }
          plans.push_back(std::move(b));
        }
      }
      std::vector<std::uint8_t> want_q;
      std::vector<float> want_s;
      double gen1_us = 0.0;
      for (const BenchPlan& b : plans) {
        dq.fill_bytes(0xFF);
        ds.fill_bytes(0xFF);
        FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
        launch_bench_plan(b, stream.get());
        FP8KIT_CUDA_CHECK(cudaGetLastError());
        stream.synchronize();
        const auto got_q = dq.download_all<std::uint8_t>();
        const auto got_s = ds.download_all<float>();
        const bool partial = b.label.find('.') != std::string::npos;  // one pass of two: nothing to compare
        if (want_q.empty()) {
          want_q = got_q;
          want_s = got_s;
        } else if (!partial) {
          EXPECT_TRUE(got_q == want_q) << mode.name << " " << b.label << " " << plan_names(b.plan) << ": q differs from gen1";
          EXPECT_EQ(std::memcmp(got_s.data(), want_s.data(), want_s.size() * 4), 0)
              << mode.name << " " << b.label << " " << plan_names(b.plan) << ": scales differ from gen1";
        }
        const Summary t = bench::time_launches([&](cudaStream_t st, int) { launch_bench_plan(b, st); }, 1, stream.get(), quick);
        if (gen1_us == 0.0) gen1_us = t.median;
        const double gbps = bytes / (t.median * 1e3);
        table.push_back(fmt::format("{:<23} {:<8} {:>5} {:>5} {:>8.2f} {:>6.0f} {:>5.1f}% {:>6.2f} {:>7.2f}  {}", mode.name, b.label,
                                    sh.rows, sh.cols, t.median, gbps, 100.0 * gbps / copy.gbps, gen1_us / t.median,
                                    t.median / te.median, plan_names(b.plan)));
        std::printf("%s\n", table.back().c_str());
      }
    }
  }
  std::printf("\nsummary (copy ceiling %.0f GB/s, empty kernel %.2f us):\n", copy.gbps, te.median);
  for (const std::string& row : table) std::printf("%s\n", row.c_str());
}

// Host time to enqueue one fp8kit::quantize (per-token, 1 x 896) against a bare launch of the same
// plan and against the three cudaPointerGetAttributes a call made before the memo: printed, not
// asserted. Batches of 256 calls, each followed by an untimed synchronize, keep the queue short.
TEST(QuantizeGpu, PrintHostOverhead) {
  if (sanitized()) GTEST_SKIP() << "timings mean nothing under the sanitizer";
  cuda::Stream stream;
  int device = 0, sms = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  FP8KIT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  cuda::DeviceBuffer dx(896 * 2), dq(896), ds(4);
  dx.fill_bytes(0x3C);
  FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
  const TensorView x = TensorView::matrix(dx.data(), DType::kBFloat16, 1, 896, 896);
  const TensorView q = TensorView::matrix(dq.data(), DType::kE4M3, 1, 896, 896);
  const TensorView sc = TensorView::contiguous(ds.data(), DType::kFloat32, {1});
  const QuantSpec spec = spec_of(Granularity::kPerToken);
  ops::QuantProblem pr;
  pr.rows = 1;
  pr.cols = 896;
  pr.x_ld = pr.q_ld = 896;
  pr.spec = spec;
  const BenchPlan b = bench_plan("plan", pr, sms, dx.data(), dq.data(), ds.data());
  auto per_call_us = [&](const std::function<void()>& call) {
    constexpr int kBatch = 256, kBatches = 40;
    double total = 0.0;
    for (int i = 0; i < kBatch; ++i) call();  // warm-up
    stream.synchronize();
    for (int k = 0; k < kBatches; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kBatch; ++i) call();
      total += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      stream.synchronize();
    }
    return total / (kBatch * kBatches);
  };
  const double us_quantize = per_call_us([&] { quantize(x, q, sc, spec, stream.get()); });
  const double us_launch = per_call_us([&] { launch_bench_plan(b, stream.get()); });
  const double us_attrs = per_call_us([&] {
    for (const void* p : {static_cast<const void*>(dx.data()), static_cast<const void*>(dq.data()), static_cast<const void*>(ds.data())}) {
      cudaPointerAttributes a{};
      FP8KIT_CUDA_CHECK(cudaPointerGetAttributes(&a, p));
    }
  });
  std::printf("host per call: fp8kit::quantize %.2f us, bare launch of its plan %.2f us, 3 x cudaPointerGetAttributes %.2f us\n",
              us_quantize, us_launch, us_attrs);
}

// The heuristic picks runs of 8 and 8 chunks a thread only for large problems, which the mode
// test's small shapes never reach: every listed alternative (QuantTuning) of the second and third
// generations on small, ragged shapes (partial runs, TMA padding rows, idle lanes in the last
// chunk slot, several rows a block), against the CPU reference.
TEST(QuantizeGpu, TunedPlansAreBitExact) {
  cuda::Stream stream;
  int device = 0, sms = 0;
  FP8KIT_CUDA_CHECK(cudaGetDevice(&device));
  FP8KIT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const std::uint64_t seed = test::fresh_seed("quantize tuned");
  std::mt19937_64 rng(seed);
  std::vector<QuantSpec> specs = {spec_of(Granularity::kPerToken)};
  for (int g : {64, 128}) {
    for (ScaleLayout l : {ScaleLayout::kRowMajor, ScaleLayout::kColMajor, ScaleLayout::kColMajorTmaAligned}) {
      specs.push_back(spec_of(Granularity::kPerGroup, g, l));
    }
  }
  specs[1].ue8m0 = true;
  int plans = 0;
  for (const QuantSpec& spec : specs) {
    const bool token = spec.granularity == Granularity::kPerToken;
    std::vector<Shape> shapes = {{5, 384}, {37, 1024}, {130, 896}, {6, 7168}};
    if (token) shapes.push_back({3, 32000});
    if (!token) shapes.push_back({4099, 384});  // more items than SMs can hold at once, a partial last block
    for (const Shape& sh : shapes) {
      for (Data data : {Data::kRandom, Data::kAdversarial}) {
        Case c;
        c.rows = sh.rows;
        c.cols = sh.cols;
        c.spec = spec;
        c.data = data;
        SCOPED_TRACE(c.describe());
        const HostInput in = make_input(c, rng);
        const ref::QuantOutput want = ref::quantize(in.bytes.data(), c.dtype, c.rows, c.cols, c.cols, spec);
        cuda::DeviceBuffer dx(in.bytes.size()), dq(static_cast<std::size_t>(c.rows * c.cols)),
            ds(static_cast<std::size_t>(want.geometry.alloc_elems) * 4);
        dx.upload(in.bytes.data(), in.bytes.size());
        ops::QuantProblem pr;
        pr.input = c.dtype;
        pr.rows = c.rows;
        pr.cols = c.cols;
        pr.x_ld = c.cols;
        pr.q_ld = c.cols;
        pr.spec = spec;
        const bool col_major = spec.granularity == Granularity::kPerGroup && spec.layout != ScaleLayout::kRowMajor;
        for (int gv = 0; gv < (col_major ? 12 : 6); ++gv) {
          const int v = 2 << (gv % 3);
          pr.tuning.generation = std::min(2 + gv / 3, 3);
          pr.tuning.vecs = v;
          pr.tuning.row_blocks = gv < 6 ? -1 : gv / 3 - 2;  // column-major: both orders forced too
          const BenchPlan b = bench_plan(fmt::format("gen{}-v{}-rb{}", pr.tuning.generation, v, pr.tuning.row_blocks), pr, sms,
                                         dx.data(), dq.data(), ds.data());
          SCOPED_TRACE(plan_names(b.plan));
          dq.fill_bytes(0xFF);
          ds.fill_bytes(0xFF);
          FP8KIT_CUDA_CHECK(cudaDeviceSynchronize());
          launch_bench_plan(b, stream.get());
          FP8KIT_CUDA_CHECK(cudaGetLastError());
          stream.synchronize();
          std::int64_t bad = 0;
          const std::string qm = first_q_mismatch(dq.download_all<std::uint8_t>(), want.q, c.rows, c.cols, c.cols, &bad);
          ASSERT_EQ(bad, 0) << bad << " q bytes differ; first " << qm << " (seed " << seed << ")";
          const std::string sm = first_scale_mismatch(ds.download_all<float>(), want.scales, want.geometry);
          ASSERT_TRUE(sm.empty()) << sm << " (seed " << seed << ")";
          ++plans;
        }
      }
    }
  }
  std::printf("%d tuned plans bit-exact\n", plans);
}

}  // namespace
}  // namespace fp8kit
