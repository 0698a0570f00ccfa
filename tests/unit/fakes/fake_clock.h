// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <string>

#include "ports/clock.h"

namespace ubc::test {

// Time moves only when someone sleeps or waits; tests can hook every sleep.
class FakeClock final : public Clock {
 public:
  std::int64_t now_unix() override { return start_unix_ + elapsed_.count() / 1000; }
  std::chrono::milliseconds monotonic() override { return elapsed_; }
  void sleep(std::chrono::milliseconds d) override {
    advance(d);
    ++sleeps_;
  }
  void advance(std::chrono::milliseconds d) {
    elapsed_ += d;
    if (on_advance_) on_advance_(elapsed_);
  }

  std::int64_t start_unix_ = 1'800'000'000;
  std::chrono::milliseconds elapsed_{0};
  int sleeps_ = 0;
  std::function<void(std::chrono::milliseconds)> on_advance_;
};

class FakeStopSignal final : public StopSignal {
 public:
  bool stop_requested() override { return requested_; }
  std::string describe() override { return "SIGTERM"; }
  bool requested_ = false;
};

}  // namespace ubc::test
