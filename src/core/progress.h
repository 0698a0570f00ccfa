// SPDX-License-Identifier: MIT
// Transfer rate and time left, from (monotonic time, bytes done) samples of a running copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace ubc {

// A moving average of the rate over the last `window` of samples. rsync's own rate figure
// swings with every file boundary and page-cache flush; half a minute of history gives an
// ETA that an admin can plan with.
//
// bytes_done may go backwards: a restarted rsync (after a pause for Veeam) counts from zero
// again. Callers add an offset, but the estimator does not rely on it: a drop starts a new
// baseline and only the bytes gained since then count.
class RateEstimator {
 public:
  explicit RateEstimator(std::chrono::milliseconds window = std::chrono::seconds(30),
                         std::chrono::milliseconds min_span = std::chrono::seconds(1));

  // A sample; `now` from a monotonic clock. Samples older than the last one are ignored.
  void add(std::chrono::milliseconds now, std::uint64_t bytes_done);
  // Forgets all history (e.g. after a long pause, which would drag the average down).
  void reset();

  // 0 until the samples span at least min_span.
  double bytes_per_second() const;
  // Whole seconds left at the current rate, rounded up; nullopt while there is no rate
  // yet, or the rate is zero. 0 when nothing is left.
  std::optional<std::int64_t> eta_seconds(std::uint64_t bytes_left) const;

 private:
  struct Sample {
    std::chrono::milliseconds at;
    std::uint64_t progress;  // bytes gained since the first sample, across restarts
  };

  std::chrono::milliseconds window_;
  std::chrono::milliseconds min_span_;
  std::deque<Sample> samples_;
  std::uint64_t last_bytes_ = 0;  // the caller's figure of the newest sample
  std::uint64_t progress_ = 0;
};

}  // namespace ubc
