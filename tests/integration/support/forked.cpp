// SPDX-License-Identifier: MIT
#include "support/forked.h"

#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace ubc::test {

std::vector<int> run_in_children(int count, const std::function<int(int)>& body) {
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      int code = 255;
      try {
        code = body(i);
      } catch (...) {
      }
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  std::vector<int> codes;
  for (const pid_t pid : pids) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
      codes.push_back(-1);
    } else {
      codes.push_back(WEXITSTATUS(status));
    }
  }
  return codes;
}

}  // namespace ubc::test
