// SPDX-License-Identifier: MIT
#include "support/blocked.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ubc::test {

namespace {

// The older calls, where the architecture still has them (aarch64 has only the newer).
#ifdef SYS_poll
constexpr long kPoll = SYS_poll;
#else
constexpr long kPoll = SYS_ppoll;
#endif
#ifdef SYS_nanosleep
constexpr long kNanosleep = SYS_nanosleep;
#else
constexpr long kNanosleep = SYS_clock_nanosleep;
#endif

// The number in /proc/<pid>/task/<tid>/syscall: "running" while on a CPU, -1 outside
// a system call.
long blocking_syscall(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  if (!(in >> number)) return -1;
  return number;
}

}  // namespace

std::vector<long> poll_calls() { return {SYS_ppoll, kPoll}; }

std::vector<long> sleep_calls() { return {SYS_clock_nanosleep, kNanosleep}; }

bool wait_until_blocked_in(pid_t pid, pid_t tid, const std::vector<long>& calls,
                           const std::function<bool()>& returned, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    const long call = blocking_syscall(pid, tid);
    if (std::find(calls.begin(), calls.end(), call) != calls.end()) return true;
    if (returned()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

pid_t child_running(const std::string& exe) {
  // Each thread lists the children it forked.
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "children");
    pid_t child = 0;
    while (in >> child) {
      std::error_code error;
      const auto target = std::filesystem::read_symlink("/proc/" + std::to_string(child) + "/exe", error);
      if (!error && target == std::filesystem::path(exe)) return child;
    }
  }
  return -1;
}

}  // namespace ubc::test
