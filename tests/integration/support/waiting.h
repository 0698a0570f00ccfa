// SPDX-License-Identifier: MIT
// Waiting in tests for what a test means to see, with deadlines that are safety nets only:
// code that works never comes near them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "ports/process_runner.h"

namespace ubc::test {

struct Collected {
  std::string out;
  std::string err;
  bool exited = false;
};

// Reads until the process has exited (or the safety net is reached).
Collected collect(Process& p, std::chrono::milliseconds safety_net = std::chrono::seconds(60));

// Reads until stdout contains text, the process exits or the safety net is reached.
std::string read_until(Process& p, const std::string& text,
                       std::chrono::milliseconds safety_net = std::chrono::seconds(30));

// Runs fn on a thread of its own and waits for it to return: false when it has not by the
// safety net. Then `unblock` (if given) runs, to end whatever fn waits for, and the wait
// goes on until fn has returned, so that nothing it uses is destroyed under it.
bool returns_within(std::chrono::milliseconds safety_net, const std::function<void()>& fn,
                    const std::function<void()>& unblock = {});

// "R", "S" (asleep), "Z", ... for process pid (its main thread), from /proc/<pid>/stat; ""
// once it is gone entirely.
std::string process_state(pid_t pid);

}  // namespace ubc::test
