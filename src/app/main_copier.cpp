// SPDX-License-Identifier: MIT
// usb-backup-copier: copy, verify, enroll, match, check-config, status, serve,
// check-stale, prepare-disk.
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "core/exit_codes.h"
#include "version.h"

namespace {

constexpr const char* kUsage =
    "usage: usb-backup-copier [--config PATH] COMMAND [OPTIONS]\n"
    "  copy (--device /dev/sdX1 | --uuid UUID | --auto) [--allow-mass-delete]\n"
    "                      copy the repository onto a whitelisted disk\n"
    "  verify (--device /dev/sdX1 | --uuid UUID) [--all]\n"
    "                      check the disk's files against its checksum manifest (the\n"
    "                      newest restore point; --all: every restore point)\n"
    "  enroll (--device /dev/sdX1 | --list | --remove UUID)\n"
    "                      mark a whitelisted disk as ours (a secret on the disk, its\n"
    "                      hash on this server); list or forget enrolled disks\n"
    "  match UUID          exit 0 if UUID is whitelisted, 1 if not (silent)\n"
    "  check-config        validate the configuration; exit 78 on errors\n"
    "  status [--json]     running and queued copies, and every disk's last good copy,\n"
    "                      last run, last verification and restore points\n"
    "  serve               the status page, /api/status, /api/runs and /metrics on\n"
    "                      webhost:webport (read-only)\n"
    "  check-stale         mail the admins about disks with no good copy for\n"
    "                      stale-after-days (at most once a day per disk)\n"
    "  prepare-disk --device /dev/sdX [--fs ext4|xfs] [--label NAME] [--yes]\n"
    "                      ERASE a new disk and make it a rotation disk: partition,\n"
    "                      filesystem, whitelist entry\n"
    "  --version, --help\n"
    "The configuration is --config PATH, else $USB_BACKUP_COPIER_CONFIG, else\n"
    "/etc/usb-backup-copier/config.ini.\n";

int dispatch(const ubc::Invocation& whole) {
  if (whole.args.empty()) return ubc::usage_error(whole.program, "no command given", kUsage);
  ubc::Invocation inv = whole;
  const std::string command = inv.args.front();
  inv.args.erase(inv.args.begin());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return ubc::kExitOk;
  }
  if (command == "--version") {
    std::cout << "usb-backup-copier " << ubc::kToolVersion << "\n";
    return ubc::kExitOk;
  }
  if (command == "copy") return ubc::cmd_copy(inv);
  if (command == "verify") return ubc::cmd_verify(inv);
  if (command == "match") return ubc::cmd_match(inv);
  if (command == "check-config") return ubc::cmd_check_config(inv);
  if (command == "status") return ubc::cmd_status(inv);
  if (command == "serve") return ubc::cmd_serve(inv);
  if (command == "check-stale") return ubc::cmd_check_stale(inv);
  if (command == "prepare-disk") return ubc::cmd_prepare_disk(inv);
  if (command == "enroll") return ubc::cmd_enroll(inv);
  return ubc::usage_error(inv.program, "unknown command '" + command + "'", kUsage);
}

}  // namespace

int main(int argc, char** argv) { return ubc::run_main(argc, argv, kUsage, dispatch); }
