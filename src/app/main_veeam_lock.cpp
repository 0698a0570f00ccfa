// SPDX-License-Identifier: MIT
// veeam-lock: see cmd_veeam.cpp. Parses the global options and dispatches; --help and the
// command's own options are handled by the command.
#include <exception>
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "core/exit_codes.h"

namespace {

constexpr const char* kUsage = "usage: veeam-lock [--config PATH] [--job NAME | --list]\n";

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string error;
    const ubc::Invocation inv = ubc::parse_invocation(argc, argv, error);
    if (!error.empty()) return ubc::usage_error(inv.program, error, kUsage);
    return ubc::cmd_veeam_lock(inv);
  } catch (const std::exception& e) {
    std::cerr << "veeam-lock: ERROR: " << e.what() << std::endl;
  } catch (...) {
    std::cerr << "veeam-lock: ERROR: unexpected failure" << std::endl;
  }
  return ubc::kExitFailed;
}
