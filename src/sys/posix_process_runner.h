// SPDX-License-Identifier: MIT
// Runs programs with fork and execve and an argv vector: no shell, stdin from /dev/null,
// stdout and stderr read through two pipes, each child in a process group of its own.
// A child is killed (SIGKILL) when the thread that started it ends, whatever ends it, so
// start children from the main thread. (posix_spawn cannot ask for that: it needs
// prctl(PR_SET_PDEATHSIG) in the child.)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ports/process_runner.h"

namespace ubc {

class PosixProcessRunner final : public ProcessRunner {
 public:
  // Throws std::system_error naming the program when it cannot be started (ENOENT when it
  // is not found in PATH, EACCES when it is not executable).
  std::unique_ptr<Process> start(const std::vector<std::string>& argv) override;
};

}  // namespace ubc
