// SPDX-License-Identifier: MIT
// The real clock, and the stop flag set by SIGTERM, SIGINT and SIGHUP.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ports/clock.h"
#include "sys/unique_fd.h"

namespace ubc {

// Installs handlers for SIGTERM, SIGINT and SIGHUP for its lifetime and restores the
// previous ones when destroyed. Signal handlers are per process, so only one may exist at
// a time (a second one throws std::system_error EBUSY).
class SignalStop final : public StopSignal {
 public:
  SignalStop();
  ~SignalStop() override;
  SignalStop(const SignalStop&) = delete;
  SignalStop& operator=(const SignalStop&) = delete;

  bool stop_requested() override;
  // "SIGTERM", "SIGINT" or "SIGHUP": the first one that arrived; empty before that.
  std::string describe() override;

  // Sleeps for duration, or less when one of the signals arrives meanwhile. Returns true
  // when woken by a signal.
  bool wait(std::chrono::milliseconds duration);

 private:
  UniqueFd wake_read_;
  UniqueFd wake_write_;
};

class SystemClock final : public Clock {
 public:
  // With a SignalStop, sleep() ends early when a stop signal arrives, so the job's waits
  // (Veeam, queue, progress ticks) react to `systemctl stop` at once.
  explicit SystemClock(SignalStop* stop = nullptr) : stop_(stop) {}

  std::int64_t now_unix() override;
  std::chrono::milliseconds monotonic() override;
  void sleep(std::chrono::milliseconds duration) override;

 private:
  SignalStop* stop_;
};

}  // namespace ubc
