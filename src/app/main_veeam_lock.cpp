// SPDX-License-Identifier: MIT
// veeam-lock: see cmd_veeam.cpp; --help and the command's own options are handled there.
#include "app/cli.h"
#include "app/commands.h"

int main(int argc, char** argv) {
  return ubc::run_main(argc, argv, "usage: veeam-lock [--config PATH] [--job NAME | --list]\n", ubc::cmd_veeam_lock);
}
