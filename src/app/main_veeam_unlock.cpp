// SPDX-License-Identifier: MIT
// veeam-unlock: see cmd_veeam.cpp; --help and the command's own options are handled there.
#include "app/cli.h"
#include "app/commands.h"

int main(int argc, char** argv) {
  return ubc::run_main(argc, argv, "usage: veeam-unlock [--config PATH] [--job NAME]\n", ubc::cmd_veeam_unlock);
}
