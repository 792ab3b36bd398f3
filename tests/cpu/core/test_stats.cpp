#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/stats.hpp"
#include "fp8kit/types.hpp"

namespace fp8kit {
namespace {

ErrorKind kind_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "expected fp8kit::Error";
  return ErrorKind::kCheckFailed;
}

TEST(StatsTest, SummaryMatchesNumpyLinearPercentiles) {
  // numpy.percentile(x, [20, 50, 80]) on this (unsorted) input gives 2.3, 4.0, 8.75.
  const Summary s = summarize({3.5, 1.25, 9.0, 2.0, 7.75, 4.0, 11.5});
  EXPECT_DOUBLE_EQ(s.p20, 2.3);
  EXPECT_DOUBLE_EQ(s.median, 4.0);
  EXPECT_DOUBLE_EQ(s.p80, 8.75);
  EXPECT_EQ(s.min, 1.25);
  EXPECT_EQ(s.max, 11.5);
  EXPECT_EQ(s.count, 7u);
}

TEST(StatsTest, EvenCountMedianInterpolates) {
  const Summary s = summarize({4.0, 1.0, 3.0, 2.0});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.p20, 1.6);  // position 0.6 between 1 and 2
  EXPECT_DOUBLE_EQ(s.p80, 3.4);  // position 2.4 between 3 and 4
}

TEST(StatsTest, SingleSampleIsEveryStatistic) {
  const Summary s = summarize({5.5});
  EXPECT_EQ(s.median, 5.5);
  EXPECT_EQ(s.p20, 5.5);
  EXPECT_EQ(s.p80, 5.5);
  EXPECT_EQ(s.min, 5.5);
  EXPECT_EQ(s.max, 5.5);
  EXPECT_EQ(s.count, 1u);
}

TEST(StatsTest, PercentileEndpointsAreExtremes) {
  const std::vector<double> sorted = {1.0, 2.0, 10.0};
  EXPECT_EQ(percentile_sorted(sorted, 0.0), 1.0);
  EXPECT_EQ(percentile_sorted(sorted, 1.0), 10.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(sorted, 0.75), 6.0);
  EXPECT_EQ(kind_of([&] { percentile_sorted(sorted, 1.5); }), ErrorKind::kInvalidArgument);
}

TEST(StatsTest, RejectsEmptyAndNaN) {
  EXPECT_EQ(kind_of([] { summarize({}); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { summarize({1.0, std::nan(""), 2.0}); }), ErrorKind::kInvalidArgument);
}

TEST(StatsTest, GeomeanKnownValues) {
  const std::vector<double> a = {1.0, 4.0, 16.0};
  EXPECT_DOUBLE_EQ(geomean(a), 4.0);
  const std::vector<double> b = {2.0, 8.0};
  EXPECT_DOUBLE_EQ(geomean(b), 4.0);
  const std::vector<double> c = {3.0};
  EXPECT_DOUBLE_EQ(geomean(c), 3.0);
}

TEST(StatsTest, GeomeanDoesNotOverflowWhereTheProductWould) {
  const std::vector<double> big(1000, 1e300);
  EXPECT_NEAR(geomean(big) / 1e300, 1.0, 1e-9);
}

TEST(StatsTest, GeomeanRejectsNonPositiveAndEmpty) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& bad : std::vector<std::vector<double>>{
           {}, {1.0, 0.0}, {-2.0, 3.0}, {1.0, inf}, {std::nan(""), 1.0}}) {
    EXPECT_EQ(kind_of([&] { geomean(bad); }), ErrorKind::kInvalidArgument) << bad.size();
  }
}

}  // namespace
}  // namespace fp8kit
