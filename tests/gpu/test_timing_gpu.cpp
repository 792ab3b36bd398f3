// The timing harness on real hardware: the copy kernel at a plausible bandwidth (a sanity bound,
// not a performance target), cold rotation, and the cold-read floor.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "bench/ceilings.hpp"
#include "bench/cold_read.hpp"
#include "bench/gemm_operands.hpp"
#include "bench/timing.hpp"
#include "cuda/device.hpp"
#include "cuda/resources.hpp"
#include "gpu_test_util.hpp"

namespace fp8kit {
namespace {

TEST(TimingGpu, CopyBandwidthIsPlausible) {
  cuda::Stream stream;
  const bench::CopyMeasurement m = bench::measure_copy_bandwidth(stream.get(), std::size_t{256} << 20);
  ASSERT_EQ(m.variants.size(), 5u);
  // Instrumented kernels run an order of magnitude slower: only the copies' correctness counts there.
  const bool sanitized = std::getenv("FP8KIT_UNDER_SANITIZER") != nullptr;
  for (const bench::CopyVariant& v : m.variants) {
    std::printf("copy %-22s %.0f GB/s (median %.1f us, p20 %.1f, p80 %.1f)\n", v.name.c_str(), v.gbps, v.us_median,
                v.us_p20, v.us_p80);
    // HBM3 on H100/H200 moves 2-5 TB/s; far outside that means the harness or the kernel is wrong.
    if (!sanitized) {
      EXPECT_GT(v.gbps, 1000.0) << v.name;
    }
    EXPECT_LT(v.gbps, 8000.0) << v.name;
    EXPECT_LE(v.us_p20, v.us_median) << v.name;
    EXPECT_LE(v.us_median, v.us_p80) << v.name;
  }
  EXPECT_GT(m.gbps, sanitized ? 1.0 : 1000.0);
}

TEST(TimingGpu, ColdModeRotatesMoreThanTwiceL2) {
  const cuda::DeviceInfo d = cuda::current_device_info();
  const std::size_t per_set = std::size_t{16} << 20;
  const int sets = bench::cold_input_sets(per_set, d.l2_bytes);
  EXPECT_GT(static_cast<std::size_t>(sets) * per_set, 2 * d.l2_bytes);

  // A kernel-free launch function (memset) exercises the rotation: each set is touched.
  std::vector<cuda::DeviceBuffer> buffers;
  for (int s = 0; s < sets; ++s) buffers.emplace_back(per_set);
  std::vector<int> touched(static_cast<std::size_t>(sets), 0);
  cuda::Stream stream;
  const Summary t = bench::time_launches(
      [&](cudaStream_t s, int set) {
        ++touched[static_cast<std::size_t>(set)];
        FP8KIT_CUDA_CHECK(cudaMemsetAsync(buffers[static_cast<std::size_t>(set)].data(), set, per_set, s));
      },
      sets, stream.get());
  for (int s = 0; s < sets; ++s) EXPECT_GT(touched[static_cast<std::size_t>(s)], 0) << "set " << s;
  EXPECT_GT(t.median, 0.0);
  EXPECT_EQ(t.count, 25u);
}

// bench gemm --hot-activations: a part that does not rotate is the one buffer in every set, the
// others are copies of their set-0 contents, and only the rotating bytes count towards the sets.
TEST(TimingGpu, ColdRotationKeepsHotPartsInPlace) {
  const cuda::DeviceInfo d = cuda::current_device_info();
  const std::size_t bytes = std::size_t{8} << 20;
  cuda::DeviceBuffer hot(bytes), cold(bytes);
  std::vector<std::uint8_t> pattern(bytes);
  for (std::size_t i = 0; i < bytes; ++i) pattern[i] = static_cast<std::uint8_t>(i * 7 + 3);
  cold.upload(pattern);
  cuda::Stream stream;
  const bench::Rotation r({{hot.data(), bytes, false}, {cold.data(), bytes}}, d, bench::TimingMode::kCold,
                          stream.get());
  EXPECT_EQ(r.sets(), bench::cold_input_sets(bytes, d.l2_bytes));
  ASSERT_GT(r.sets(), 2);
  std::vector<std::uint8_t> got(bytes);
  for (int set = 0; set < r.sets(); ++set) {
    EXPECT_EQ(r.at(0, set), hot.data()) << "set " << set;
    if (set > 0) {
      EXPECT_NE(r.at(1, set), cold.data()) << "set " << set;
    }
  }
  FP8KIT_CUDA_CHECK(cudaMemcpy(got.data(), r.at(1, r.sets() - 1), bytes, cudaMemcpyDeviceToHost));
  EXPECT_TRUE(got == pattern) << "the last set's copy differs from set 0";  // not 8 MB of printed bytes
}

// The cold-read floor of bench gemm's cold rows: each read kernel's blocks read every word (checked
// inside, an error otherwise), the rotation keeps the reads in HBM (no more than HBM's bandwidth), a
// size is measured once, and more bytes take longer.
TEST(TimingGpu, ColdReadFloorReadsFromHbm) {
  cuda::Stream stream;
  bench::ColdReadFloor floor(cuda::current_device_info(), stream.get());
  const double small = floor.us(4.0e6), large = floor.us(64.0e6);
  std::printf("cold read: 4 MB %.2f us (%.0f GB/s), 64 MB %.2f us (%.0f GB/s)\n", small, 4.0e6 / (small * 1e3), large,
              64.0e6 / (large * 1e3));
  EXPECT_GT(small, 0.0);
  EXPECT_GT(large, small);
  EXPECT_LT(64.0e6 / (large * 1e3), 6000.0) << "faster than HBM: the reads hit L2";
  EXPECT_EQ(floor.us(4.0e6), small) << "a size is measured once";
  EXPECT_GT(floor.us(4.0e6 + 8), 0.0) << "a ragged size (the kernels' tail loop)";
}

}  // namespace
}  // namespace fp8kit
