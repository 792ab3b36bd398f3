// The quantization GPU tests' cases: random and adversarial inputs in every dtype and layout of x
// and q, static scales, and one case run twice on the GPU against ref::quantize, bit for bit.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/fp8_codec.hpp"
#include "core/ref_quant.hpp"
#include "cuda/check.hpp"
#include "cuda/resources.hpp"
#include "fp8kit/quant.hpp"
#include "gpu_test_util.hpp"

namespace fp8kit::quant_test {

inline bool sanitized() { return std::getenv("FP8KIT_UNDER_SANITIZER") != nullptr; }

inline QuantSpec spec_of(Granularity g, int group = 128, ScaleLayout layout = ScaleLayout::kRowMajor) {
  QuantSpec s;
  s.granularity = g;
  s.group_size = group;
  s.layout = layout;
  return s;
}

enum class Data { kRandom, kAdversarial };

struct Shape {
  std::int64_t rows, cols;
};

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

inline std::uint32_t encode(float v, DType d) {
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

inline HostInput make_input(const Case& c, std::mt19937_64& rng) {
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
inline std::vector<float> make_static_scales(const Case& c, std::mt19937_64& rng) {
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

inline std::string first_q_mismatch(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want, std::int64_t rows,
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

inline std::string first_scale_mismatch(const std::vector<float>& got, const std::vector<float>& want, const ScaleGeometry& geo) {
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
inline void run_case(const Case& c, std::uint64_t seed, cuda::Stream& stream) {
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

}  // namespace fp8kit::quant_test
