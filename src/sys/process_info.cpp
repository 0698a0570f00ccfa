// SPDX-License-Identifier: MIT
#include "sys/process_info.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <climits>

extern char** environ;

namespace ubc {

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

int process_id() { return static_cast<int>(getpid()); }

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

void notify_ready() { (void)sd_notify(0, "READY=1"); }

bool stdin_is_terminal() { return ::isatty(0) == 1; }

}  // namespace ubc
