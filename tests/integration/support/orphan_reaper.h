// SPDX-License-Identifier: MIT
// Waiting for the end of a process whose parent a test has killed.
//
// For its scope the test process is the reaper of orphans below it
// (PR_SET_CHILD_SUBREAPER): a grandchild whose parent dies becomes the test's child, so
// the test can tell how it ended, and a dead one does not linger as a zombie of PID 1.
// It also keeps such a process in the test's session, so the kernel never sends a stopped
// orphaned process group SIGHUP and SIGCONT on its own: only what the code under test does
// can end it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <set>

namespace ubc::test {

class OrphanReaper {
 public:
  OrphanReaper();
  // Kills (SIGKILL) and reaps every process given to wait_for_end that had not ended,
  // then stops being the reaper.
  ~OrphanReaper();
  OrphanReaper(const OrphanReaper&) = delete;
  OrphanReaper& operator=(const OrphanReaper&) = delete;

  // Waits (pidfd, no polling) until pid has ended, and reaps it when it is this process's
  // child by then. False on timeout. `status` gets the wait status, or -1 when another
  // process reaped it.
  bool wait_for_end(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);

 private:
  std::set<pid_t> running_;
};

}  // namespace ubc::test
