// SPDX-License-Identifier: MIT
#include "core/progress.h"

#include "core/format.h"

#include <cmath>

namespace ubc {

RateEstimator::RateEstimator(std::chrono::milliseconds window,
                             std::chrono::milliseconds min_span)
    : window_(window), min_span_(min_span) {}

void RateEstimator::add(std::chrono::milliseconds now, std::uint64_t bytes_done) {
  if (samples_.empty()) {
    last_bytes_ = bytes_done;
    samples_.push_back({now, progress_});
    return;
  }
  if (now < samples_.back().at) return;

  // A drop means the counter restarted; the bytes below the old figure were counted
  // already, so the new figure becomes the baseline and nothing is gained by it.
  if (bytes_done >= last_bytes_) progress_ += bytes_done - last_bytes_;
  last_bytes_ = bytes_done;

  if (now == samples_.back().at) {
    samples_.back().progress = progress_;
  } else {
    samples_.push_back({now, progress_});
  }
  // Keep the newest sample at or before the start of the window as the oldest one, so
  // that the average covers the whole window once there is that much history.
  while (samples_.size() >= 2 && samples_[1].at <= now - window_) samples_.pop_front();
}

void RateEstimator::reset() {
  samples_.clear();
  last_bytes_ = 0;
  progress_ = 0;
}

double RateEstimator::bytes_per_second() const {
  if (samples_.size() < 2) return 0;
  const auto span = samples_.back().at - samples_.front().at;
  if (span < min_span_ || span.count() <= 0) return 0;
  const auto gained = samples_.back().progress - samples_.front().progress;
  return static_cast<double>(gained) * 1000.0 / static_cast<double>(span.count());
}

std::optional<std::int64_t> RateEstimator::eta_seconds(std::uint64_t bytes_left) const {
  if (bytes_left == 0) return 0;
  const double rate = bytes_per_second();
  if (rate <= 0) return std::nullopt;
  return saturate_to_i64(std::ceil(static_cast<double>(bytes_left) / rate));
}

}  // namespace ubc
