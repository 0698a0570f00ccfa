// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ubc {

struct ProcessOutput {
  std::string out;  // what arrived on stdout since the last read
  std::string err;  // what arrived on stderr since the last read
  bool exited = false;  // both pipes closed and the child reaped
};

// A running child. Destroying it kills and reaps the child if still running.
class Process {
 public:
  virtual ~Process() = default;
  // Waits up to timeout for output or exit.
  virtual ProcessOutput read(std::chrono::milliseconds timeout) = 0;
  // SIGTERM, then SIGKILL after grace; returns when reaped.
  virtual void terminate(std::chrono::milliseconds grace) = 0;
  // After exited: the exit status, or 128 + signal number.
  virtual int exit_code() const = 0;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs argv[0] (searched in PATH) with argv; never through a shell. stdin is /dev/null.
  // Throws std::system_error if it cannot be started.
  virtual std::unique_ptr<Process> start(const std::vector<std::string>& argv) = 0;
};

}  // namespace ubc
