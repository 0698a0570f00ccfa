// SPDX-License-Identifier: MIT
#include "sys/child_call.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "sys/fd_io.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The child's exit statuses besides 0 (answer written).
constexpr int kExitWorkThrew = 70;
constexpr int kExitWriteFailed = 71;
constexpr int kExitOrphan = 72;

// give_up is asked at least this often, as MailTransport promises its callers.
constexpr milliseconds kAskEvery{1000};

[[noreturn]] void run_child(int out, pid_t parent, const std::function<std::string()>& work) {
  // A copier killed outright (SIGKILL from systemd) must not leave a mail half-sent by an
  // orphan that nobody waits for. The parent may have died before prctl took effect.
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kExitOrphan);
  std::string answer;
  try {
    answer = work();
  } catch (...) {
    ::_exit(kExitWorkThrew);
  }
  try {
    write_all(out, answer, "the pipe to the parent");
  } catch (...) {
    ::_exit(kExitWriteFailed);
  }
  ::_exit(0);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    // ECHILD cannot happen for our own unreaped child; anything but EINTR ends the wait.
    if (errno != EINTR) return -1;
  }
  return status;
}

void kill_and_reap(pid_t pid) {
  // The child is not reaped yet, so its pid cannot have been reused by another process.
  (void)::kill(pid, SIGKILL);
  (void)wait_for(pid);
}

std::string describe_end(int status) {
  if (status < 0) return "could not be waited for";
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  const int code = WEXITSTATUS(status);
  switch (code) {
    case kExitWorkThrew: return "failed with an exception";
    case kExitWriteFailed: return "could not write its answer";
    case kExitOrphan: return "found its parent gone";
    default: return "exited with status " + std::to_string(code);
  }
}

// A give_up that throws is taken as a yes, as libcurl's progress callback takes it: the
// child must not outlive the call.
bool asked_to_give_up(const std::function<bool()>& give_up) {
  try {
    return give_up && give_up();
  } catch (...) {
    return true;
  }
}

}  // namespace

ChildResult call_in_child(const std::function<std::string()>& work, const std::function<bool()>& give_up,
                          milliseconds time_limit, std::size_t max_answer) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) throw errno_error("pipe2", "for a child process");
  UniqueFd from_child(ends[0]);
  UniqueFd to_parent(ends[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw errno_error("fork", "for a child process");
  if (pid == 0) {
    from_child.reset();
    run_child(to_parent.get(), parent, work);
  }
  to_parent.reset();  // so that the child's exit is the end of the pipe

  ChildResult result;
  const auto deadline = steady_clock::now() + time_limit;
  for (;;) {
    if (asked_to_give_up(give_up)) {
      kill_and_reap(pid);
      result.end = ChildResult::End::given_up;
      result.error = "given up on request";
      return result;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left <= milliseconds::zero()) {
      kill_and_reap(pid);
      result.end = ChildResult::End::timed_out;
      result.error = "gave no answer within " + std::to_string((time_limit.count() + 999) / 1000) + " s";
      return result;
    }
    pollfd wait{from_child.get(), POLLIN, 0};
    const int ready = ::poll(&wait, 1, static_cast<int>(std::min(left, kAskEvery).count()));
    if (ready < 0 && errno != EINTR) {
      const int saved = errno;
      kill_and_reap(pid);
      throw errno_error("poll", "the pipe from child " + std::to_string(pid), saved);
    }
    if (ready <= 0) continue;  // a signal (a stop request) or a second gone: ask give_up again
    char buffer[16 * 1024];
    const ssize_t n = ::read(from_child.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      kill_and_reap(pid);
      throw errno_error("read", "the pipe from child " + std::to_string(pid), saved);
    }
    if (n == 0) break;  // the child has exited, or is about to
    if (result.answer.size() + static_cast<std::size_t>(n) > max_answer) {
      kill_and_reap(pid);
      result.answer.clear();
      result.error = "answered more than " + std::to_string(max_answer) + " bytes";
      return result;
    }
    result.answer.append(buffer, static_cast<std::size_t>(n));
  }
  const int status = wait_for(pid);
  if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    result.end = ChildResult::End::answered;
    return result;
  }
  result.answer.clear();
  result.error = describe_end(status) + " before it answered";
  return result;
}

}  // namespace ubc
