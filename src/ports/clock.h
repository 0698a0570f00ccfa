// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>

namespace ubc {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_unix() = 0;                  // wall clock, seconds
  virtual std::chrono::milliseconds monotonic() = 0;   // for durations
  virtual void sleep(std::chrono::milliseconds duration) = 0;
};

// Set when the job must stop (SIGTERM, SIGINT: systemd stop or the disk pulled out).
class StopSignal {
 public:
  virtual ~StopSignal() = default;
  virtual bool stop_requested() = 0;
  virtual std::string describe() = 0;  // "SIGTERM", for the report
};

}  // namespace ubc
