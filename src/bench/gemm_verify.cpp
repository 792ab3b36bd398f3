#include "bench/gemm_verify.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "core/fp8_codec.hpp"
#include "core/gemm_spec.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

constexpr std::int64_t kRowsPerSeed = 64;

std::size_t idx(std::int64_t v) { return static_cast<std::size_t>(v); }

// Runs fn(begin, end, chunk) on up to max_chunks() threads over [0, count), in chunks of at least
// `grain`; chunk numbers are 0, 1, ... in range order.
std::int64_t max_chunks() { return static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency())); }

template <typename Fn>
void parallel_for(std::int64_t count, std::int64_t grain, Fn fn) {
  const std::int64_t chunks = std::clamp<std::int64_t>(count / std::max<std::int64_t>(grain, 1), 1, max_chunks());
  if (chunks <= 1) {
    fn(std::int64_t{0}, count, std::int64_t{0});
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(idx(chunks));
  for (std::int64_t c = 0; c < chunks; ++c) {
    threads.emplace_back([&, c] {
      try {
        fn(count * c / chunks, count * (c + 1) / chunks, c);
      } catch (...) {
        errors[idx(c)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 29);
}

std::uint16_t bits_at(std::span<const std::byte> m, std::size_t i) {
  std::uint16_t v;
  std::memcpy(&v, m.data() + 2 * i, 2);
  return v;
}

}  // namespace

std::vector<std::int64_t> outlier_channels(std::int64_t cols, std::uint64_t seed) {
  const auto count = std::clamp<std::int64_t>(std::llround(static_cast<double>(cols) * kOutlierChannelFraction), 1, cols);
  std::vector<std::int64_t> all(idx(cols));
  for (std::int64_t i = 0; i < cols; ++i) all[idx(i)] = i;
  std::mt19937_64 rng(mix(seed, 0x5eedu));
  for (std::int64_t i = 0; i < count; ++i) {  // partial Fisher-Yates
    const auto j = i + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(cols - i));
    std::swap(all[idx(i)], all[idx(j)]);
  }
  all.resize(idx(count));
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<std::byte> make_gemm_input(std::int64_t rows, std::int64_t cols, ActDist dist, std::uint64_t seed) {
  std::vector<std::byte> out(idx(rows * cols) * 2);
  std::vector<float> gain(idx(cols), 1.0f);
  if (dist == ActDist::kOutliers) {
    for (std::int64_t c : outlier_channels(cols, seed)) gain[idx(c)] = kOutlierGain;
  }
  const std::int64_t blocks = (rows + kRowsPerSeed - 1) / kRowsPerSeed;
  parallel_for(blocks, 1, [&](std::int64_t b0, std::int64_t b1, std::int64_t) {
    for (std::int64_t b = b0; b < b1; ++b) {
      std::mt19937_64 rng(mix(seed, static_cast<std::uint64_t>(b)));
      std::normal_distribution<float> normal;
      for (std::int64_t r = b * kRowsPerSeed; r < std::min(rows, (b + 1) * kRowsPerSeed); ++r) {
        for (std::int64_t c = 0; c < cols; ++c) {
          const std::uint16_t v = bf16_from_float(normal(rng) * gain[idx(c)]);
          std::memcpy(out.data() + 2 * idx(r * cols + c), &v, 2);
        }
      }
    }
  });
  return out;
}

std::vector<std::int64_t> sample_rows(std::int64_t m, std::int64_t max_rows) {
  std::vector<std::int64_t> rows;
  if (m <= max_rows) {
    for (std::int64_t r = 0; r < m; ++r) rows.push_back(r);
    return rows;
  }
  for (std::int64_t i = 0; i < max_rows; ++i) rows.push_back(max_rows == 1 ? 0 : i * (m - 1) / (max_rows - 1));
  return rows;
}

std::vector<std::byte> gather_rows(std::span<const std::byte> src, std::size_t row_bytes,
                                   std::span<const std::int64_t> rows) {
  std::vector<std::byte> out(rows.size() * row_bytes);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t from = idx(rows[i]) * row_bytes;
    if (from + row_bytes > src.size()) throw_invalid_argument(fmt::format("gather_rows: row {} is out of range", rows[i]));
    std::memcpy(out.data() + i * row_bytes, src.data() + from, row_bytes);
  }
  return out;
}

HostScaledA select_rows(const HostScaledA& a, std::span<const std::int64_t> rows) {
  HostScaledA out;
  out.m = static_cast<std::int64_t>(rows.size());
  out.k = a.k;
  out.mode = a.mode;
  out.codes.resize(idx(out.m * a.k));
  out.scales.assign(idx(scale_a_elems(a.mode, out.m, a.k)), 0.0f);
  const std::int64_t kb = (a.k + kGemmScaleBlock - 1) / kGemmScaleBlock;
  const std::int64_t ld_in = group128_scale_ld(a.m), ld_out = group128_scale_ld(out.m);
  for (std::int64_t i = 0; i < out.m; ++i) {
    const std::int64_t r = rows[idx(i)];
    if (r < 0 || r >= a.m) throw_invalid_argument(fmt::format("select_rows: row {} is out of range", r));
    std::memcpy(out.codes.data() + idx(i * a.k), a.codes.data() + idx(r * a.k), idx(a.k));
    switch (a.mode) {
      case ScaleModeA::kTensor: out.scales[0] = a.scales[0]; break;
      case ScaleModeA::kToken: out.scales[idx(i)] = a.scales[idx(r)]; break;
      case ScaleModeA::kGroup128:
        for (std::int64_t b = 0; b < kb; ++b) out.scales[idx(b * ld_out + i)] = a.scales[idx(b * ld_in + r)];
        break;
    }
  }
  return out;
}

std::vector<double> parallel_gemm(std::span<const std::byte> a, std::int64_t m, std::span<const std::byte> b,
                                  std::int64_t n, std::int64_t k) {
  std::vector<double> d(idx(m * n));
  parallel_for(m, 4, [&](std::int64_t r0, std::int64_t r1, std::int64_t) {
    ref::GemmInputs in;
    in.shape = {r1 - r0, n, k};
    in.dtype = DType::kBFloat16;
    in.a = a.subspan(idx(r0 * k) * 2, idx((r1 - r0) * k) * 2);
    in.lda = k;
    in.b = b;
    in.ldb = k;
    const std::vector<double> part = ref::gemm(in);
    std::copy(part.begin(), part.end(), d.begin() + static_cast<std::ptrdiff_t>(r0 * n));
  });
  return d;
}

std::vector<double> parallel_scaled_gemm(const HostScaledA& a, std::span<const std::uint8_t> b_codes,
                                         ScaleModeB mode_b, std::span<const float> scale_b, std::int64_t n) {
  std::vector<double> d(idx(a.m * n));
  parallel_for(a.m, 4, [&](std::int64_t r0, std::int64_t r1, std::int64_t) {
    std::vector<std::int64_t> rows;
    for (std::int64_t r = r0; r < r1; ++r) rows.push_back(r);
    const HostScaledA part_a = select_rows(a, rows);
    ref::ScaledGemmInputs in;
    in.shape = {part_a.m, n, a.k};
    in.mode_a = a.mode;
    in.mode_b = mode_b;
    in.a = part_a.codes;
    in.lda = a.k;
    in.b = b_codes;
    in.ldb = a.k;
    in.scale_a = part_a.scales;
    in.scale_b = scale_b;
    const std::vector<double> part = ref::scaled_gemm(in);
    std::copy(part.begin(), part.end(), d.begin() + static_cast<std::ptrdiff_t>(r0 * n));
  });
  return d;
}

namespace {

// The spacing of bf16 values at |x| (8 significant bits).
double bf16_ulp(double x) {
  int exp = 0;
  std::frexp(x, &exp);  // x = f * 2^exp, f in [0.5, 1)
  return std::ldexp(1.0, exp - 8);
}

// Norm-wise relative error of got against expected (both read as double through `read`), with the
// first non-finite output and the worst element.
struct Comparison {
  double sum_diff2 = 0, sum_ref2 = 0, max_ref = 0;
  std::int64_t first_bad = -1;  // first non-finite output
  std::int64_t worst = -1;
  double worst_diff = -1;
};

template <typename ReadRef>
std::optional<std::string> compare(ReadRef ref_at, std::span<const std::byte> got, std::int64_t rows, std::int64_t n,
                                   double tolerance, std::string_view against, std::span<const std::int64_t> row_ids) {
  const std::int64_t count = rows * n;
  if (static_cast<std::int64_t>(got.size()) < count * 2) throw_invalid_argument("check_output: output is too short");
  auto where = [&](std::int64_t i) {
    const std::int64_t r = i / n;
    return fmt::format("row {}, col {}", row_ids.empty() ? r : row_ids[idx(r)], i % n);
  };
  std::vector<Comparison> parts(idx(max_chunks()));
  parallel_for(count, 1 << 16, [&](std::int64_t i0, std::int64_t i1, std::int64_t chunk) {
    Comparison c;
    for (std::int64_t i = i0; i < i1; ++i) {
      const double e = ref_at(i);
      const double g = bf16_to_float(bits_at(got, idx(i)));
      if (!std::isfinite(g)) {
        if (c.first_bad < 0) c.first_bad = i;
        continue;
      }
      const double d = std::fabs(g - e);
      c.sum_diff2 += d * d;
      c.sum_ref2 += e * e;
      c.max_ref = std::max(c.max_ref, std::fabs(e));
      if (d > c.worst_diff) {
        c.worst_diff = d;
        c.worst = i;
      }
    }
    parts[idx(chunk)] = c;
  });
  Comparison all;
  for (const Comparison& c : parts) {
    if (c.first_bad >= 0 && (all.first_bad < 0 || c.first_bad < all.first_bad)) all.first_bad = c.first_bad;
    all.sum_diff2 += c.sum_diff2;
    all.sum_ref2 += c.sum_ref2;
    all.max_ref = std::max(all.max_ref, c.max_ref);
    if (c.worst_diff > all.worst_diff) {
      all.worst_diff = c.worst_diff;
      all.worst = c.worst;
    }
  }
  if (all.first_bad >= 0) {
    return fmt::format("non-finite output at ({}): {}", where(all.first_bad),
                       bf16_to_float(bits_at(got, idx(all.first_bad))));
  }
  const double norm = std::sqrt(all.sum_ref2);
  const double rel = norm > 0 ? std::sqrt(all.sum_diff2) / norm : (all.sum_diff2 > 0 ? INFINITY : 0.0);
  // One accumulation-order flip of the largest output by a bf16 ulp is allowed on top: in a small
  // output (one row of 512) that flip alone reaches 1e-3 (H200, 2026-12-04: -232 for -233).
  const double allowed = tolerance + (norm > 0 ? bf16_ulp(all.max_ref) / norm : 0.0);
  if (!(rel < allowed)) {
    return fmt::format("relative error {:.3g} against {} (tolerance {:.0e}, {:.3g} with one flip); worst at ({}): {} "
                       "instead of {}",
                       rel, against, tolerance, allowed, where(all.worst), bf16_to_float(bits_at(got, idx(all.worst))),
                       ref_at(all.worst));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_output(std::span<const double> expected, std::span<const std::byte> got,
                                        std::int64_t rows, std::int64_t n, double tolerance, std::string_view against,
                                        std::span<const std::int64_t> row_ids) {
  if (static_cast<std::int64_t>(expected.size()) != rows * n) throw_invalid_argument("check_output: expected has the wrong size");
  // Round as the GPU epilogue does, so bf16 rounding itself is no difference.
  const std::vector<std::byte> rounded = ref::store(expected, rows, n, DType::kBFloat16);
  return compare([&](std::int64_t i) { return static_cast<double>(bf16_to_float(bits_at(rounded, idx(i)))); }, got, rows,
                 n, tolerance, against, row_ids);
}

std::optional<std::string> check_output_bf16(std::span<const std::byte> expected, std::span<const std::byte> got,
                                             std::int64_t rows, std::int64_t n, double tolerance,
                                             std::string_view against) {
  if (static_cast<std::int64_t>(expected.size()) < rows * n * 2) throw_invalid_argument("check_output_bf16: expected is too short");
  return compare([&](std::int64_t i) { return static_cast<double>(bf16_to_float(bits_at(expected, idx(i)))); }, got,
                 rows, n, tolerance, against, {});
}

}  // namespace fp8kit::bench
