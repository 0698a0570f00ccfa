// SPDX-License-Identifier: MIT
// Runs programs with posix_spawnp and an argv vector: no shell, stdin from /dev/null,
// stdout and stderr read through two pipes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ports/process_runner.h"

namespace ubc {

class PosixProcessRunner final : public ProcessRunner {
 public:
  // Throws std::system_error naming the program when it cannot be started (ENOENT when it
  // is not found in PATH).
  std::unique_ptr<Process> start(const std::vector<std::string>& argv) override;
};

}  // namespace ubc
