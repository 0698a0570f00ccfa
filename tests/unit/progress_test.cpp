// SPDX-License-Identifier: MIT
#include "core/progress.h"

#include <gtest/gtest.h>

namespace ubc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t MB = 1'000'000;

TEST(RateEstimator, HasNoRateAndNoEtaFromASingleSample) {
  RateEstimator rate;
  rate.add(seconds(5), 1000);
  EXPECT_EQ(rate.bytes_per_second(), 0);
  EXPECT_FALSE(rate.eta_seconds(1000).has_value());
}

TEST(RateEstimator, MeasuresASteadyRateAndTheTimeLeft) {
  RateEstimator rate;
  for (int s = 0; s <= 10; ++s)
    rate.add(seconds(100 + s), static_cast<std::uint64_t>(s) * 10 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 10.0 * MB);
  EXPECT_EQ(rate.eta_seconds(100 * MB), 10);
}

TEST(RateEstimator, AveragesOnlyOverTheWindow) {
  RateEstimator rate(seconds(30));
  std::uint64_t bytes = 0;
  int t = 0;
  for (; t < 60; ++t, bytes += 1 * MB) rate.add(seconds(t), bytes);
  // Slow for a minute, then four times as fast for longer than the window.
  for (; t <= 100; ++t, bytes += 4 * MB) rate.add(seconds(t), bytes);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 4.0 * MB);
}

TEST(RateEstimator, BlendsOldAndNewRateWhileBothAreInTheWindow) {
  RateEstimator rate(seconds(30));
  for (int t = 0; t <= 30; ++t) rate.add(seconds(t), static_cast<std::uint64_t>(t) * MB);
  // 15 s at 3 MB/s: the window now holds 15 s at 1 MB/s and 15 s at 3 MB/s.
  for (int t = 31; t <= 45; ++t)
    rate.add(seconds(t), 30 * MB + static_cast<std::uint64_t>(t - 30) * 3 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 2.0 * MB);
}

TEST(RateEstimator, ACounterThatStartsOverCountsOnlyWhatIsGainedAfterwards) {
  RateEstimator rate(seconds(60));
  for (int t = 0; t <= 10; ++t) rate.add(seconds(t), static_cast<std::uint64_t>(t) * MB);
  // rsync restarted: its counter begins at 0 again and grows by 1 MB/s.
  for (int t = 11; t <= 20; ++t) rate.add(seconds(t), static_cast<std::uint64_t>(t - 11) * MB);
  // 10 MB before, nothing in the second of the restart, 9 MB after: 19 MB in 20 s.
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 19.0 * MB / 20.0);
}

TEST(RateEstimator, NeedsSamplesSpanningTheMinimumBeforeGivingARate) {
  RateEstimator rate(seconds(30), seconds(1));
  rate.add(milliseconds(0), 0);
  rate.add(milliseconds(400), 400 * MB);
  EXPECT_EQ(rate.bytes_per_second(), 0);
  EXPECT_FALSE(rate.eta_seconds(1).has_value());
  rate.add(milliseconds(1000), 500 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 500.0 * MB);
}

TEST(RateEstimator, IgnoresSamplesOlderThanTheNewest) {
  RateEstimator rate;
  rate.add(seconds(10), 0);
  rate.add(seconds(20), 10 * MB);
  rate.add(seconds(15), 999 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 1.0 * MB);
}

TEST(RateEstimator, ASecondSampleAtTheSameTimeReplacesTheFirst) {
  RateEstimator rate;
  rate.add(seconds(0), 0);
  rate.add(seconds(2), 2 * MB);
  rate.add(seconds(2), 4 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 2.0 * MB);
}

TEST(RateEstimator, RoundsTheTimeLeftUp) {
  RateEstimator rate;
  rate.add(seconds(0), 0);
  rate.add(seconds(4), 4000);
  EXPECT_EQ(rate.eta_seconds(1500), 2);
  EXPECT_EQ(rate.eta_seconds(0), 0);
}

TEST(RateEstimator, HasNoEtaWhileNothingMoves) {
  RateEstimator rate;
  rate.add(seconds(0), 5 * MB);
  rate.add(seconds(10), 5 * MB);
  EXPECT_EQ(rate.bytes_per_second(), 0);
  EXPECT_FALSE(rate.eta_seconds(MB).has_value());
  EXPECT_EQ(rate.eta_seconds(0), 0);
}

TEST(RateEstimator, ResetForgetsTheHistory) {
  RateEstimator rate;
  rate.add(seconds(0), 0);
  rate.add(seconds(10), 10 * MB);
  rate.reset();
  EXPECT_EQ(rate.bytes_per_second(), 0);
  // After a reset a lower figure is a fresh start, not a drop.
  rate.add(seconds(100), 1 * MB);
  rate.add(seconds(102), 5 * MB);
  EXPECT_DOUBLE_EQ(rate.bytes_per_second(), 2.0 * MB);
}

}  // namespace
}  // namespace ubc
