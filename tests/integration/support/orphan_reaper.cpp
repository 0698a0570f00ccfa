// SPDX-License-Identifier: MIT
#include "support/orphan_reaper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace ubc::test {

OrphanReaper::OrphanReaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    throw std::runtime_error("prctl(PR_SET_CHILD_SUBREAPER): " + std::string(std::strerror(errno)));
}

OrphanReaper::~OrphanReaper() {
  const std::set<pid_t> left = running_;
  for (const pid_t pid : left) {
    (void)::kill(pid, SIGKILL);
    (void)wait_for_end(pid, std::chrono::seconds(10));
  }
  (void)::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

bool OrphanReaper::wait_for_end(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  running_.insert(pid);
  // The syscall itself: Debian 12's <sys/pidfd.h> declares pidfd_open without C linkage.
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0 && errno != ESRCH)
    throw std::runtime_error("pidfd_open(" + std::to_string(pid) + "): " + std::strerror(errno));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    int ready;
    while ((ready = ::poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
    }
    ::close(fd);
    if (ready == 0) return false;
  }
  // Ended (or reaped already, when pidfd_open found no process): reap it if it is ours
  // now. It has ended, so this does not block.
  int st = -1;
  pid_t r;
  while ((r = ::waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r != pid) st = -1;
  if (status != nullptr) *status = st;
  running_.erase(pid);
  return true;
}

}  // namespace ubc::test
