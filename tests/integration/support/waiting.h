// SPDX-License-Identifier: MIT
// Waiting in tests for what a test means to see, with deadlines that are safety nets only:
// code that works never comes near them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

// What happens to the files of one directory, from inotify: a program's own steps seen from
// outside (the copier opening the coordination lock to look at the leases, the status file
// renamed into place). Events count from the constructor on; none is missed between waits.
class DirWatch {
 public:
  // mask: the inotify events to count (IN_OPEN, IN_MOVED_TO, ...).
  DirWatch(const std::string& dir, std::uint32_t mask);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  // Events on the entry `name` so far.
  int count(const std::string& name);
  // Waits until `name` has had `count` more events than when called, asking `still_fine`
  // every `step` meanwhile and once more at the end; false when it says no or the safety
  // net is reached.
  bool wait_for_more(const std::string& name, int count, std::chrono::milliseconds safety_net,
                     const std::function<bool()>& still_fine = [] { return true; },
                     std::chrono::milliseconds step = std::chrono::milliseconds(100));

 private:
  // Takes in what has arrived, waiting up to timeout for something to.
  void take(std::chrono::milliseconds timeout);

  std::string dir_;
  int fd_ = -1;
  std::map<std::string, int> counts_;
};

}  // namespace ubc::test
