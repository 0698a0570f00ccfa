// SPDX-License-Identifier: MIT
// How a test sees another thread or process reach its blocking wait, instead of guessing
// with a sleep: the kernel tells which system call a task sleeps in.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace ubc::test {

// Sleeping system calls as this machine numbers them: poll() and sleep_for().
std::vector<long> poll_calls();
std::vector<long> sleep_calls();

// Waits until task `tid` of process `pid` sleeps in one of `calls` (true), or until
// `returned()` says it went on without blocking, or the deadline, a safety net only (false).
bool wait_until_blocked_in(pid_t pid, pid_t tid, const std::vector<long>& calls,
                           const std::function<bool()>& returned,
                           std::chrono::milliseconds deadline = std::chrono::seconds(30));

// A running child of this process that executes `exe` (an absolute path), or -1.
pid_t child_running(const std::string& exe);

}  // namespace ubc::test
