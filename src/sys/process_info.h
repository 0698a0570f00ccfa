// SPDX-License-Identifier: MIT
// Facts about this process and host that composition roots pass into the core.
#pragma once

#include <string>
#include <vector>

namespace ubc {

std::string host_name();
int process_id();
std::vector<std::string> process_environment();
// Tells systemd the service is up (Type=notify); harmless without NOTIFY_SOCKET.
void notify_ready();

// Whether standard input is a terminal (a person typing) rather than a pipe or a file.
bool stdin_is_terminal();

}  // namespace ubc
