// The timing harness's pure parts: the timing mode's flag and the cold rotation's size.
#include <gtest/gtest.h>

#include <cstddef>

#include "bench/timing.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit::bench {
namespace {

constexpr std::size_t kL2 = std::size_t{50} << 20;

TEST(BenchTiming, ColdSetsExceedTwiceTheL2) {
  for (std::size_t bytes : {std::size_t{1} << 20, std::size_t{11} << 20, std::size_t{176} << 20}) {
    const int sets = cold_input_sets(bytes, kL2);
    EXPECT_GT(static_cast<std::size_t>(sets) * bytes, 2 * kL2) << bytes;
    EXPECT_LE(static_cast<std::size_t>(sets - 1) * bytes, 2 * kL2) << "one set more than needed: " << bytes;
  }
  EXPECT_EQ(cold_input_sets(0, kL2), 1);
}

// A call of a few bytes would want millions of sets (a graph of that many calls): capped.
TEST(BenchTiming, ColdSetsAreCapped) {
  EXPECT_EQ(cold_input_sets(64, kL2), static_cast<int>(kMaxColdSets));
  EXPECT_EQ(cold_input_sets(1, kL2), static_cast<int>(kMaxColdSets));
  EXPECT_EQ(cold_input_sets(2 * kL2 / 1000, kL2), 1001) << "below the cap: twice the L2 and one set more";
}

TEST(BenchTiming, ModeNamesRoundTripAndAnUnknownOneIsRefused) {
  EXPECT_EQ(parse_timing_mode(timing_mode_name(TimingMode::kGraph)), TimingMode::kGraph);
  EXPECT_EQ(parse_timing_mode(timing_mode_name(TimingMode::kCold)), TimingMode::kCold);
  EXPECT_THROW(parse_timing_mode("warm"), Error);
}

}  // namespace
}  // namespace fp8kit::bench
