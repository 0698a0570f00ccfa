// SPDX-License-Identifier: MIT
// The commands of the three binaries. Each returns the process's exit code and never
// throws; main() only parses the global options and dispatches.
#pragma once

#include <string>
#include <vector>

namespace ubc {

// The global part of every command line.
struct Invocation {
  std::string program;      // "usb-backup-copier", "veeam-lock", ...
  std::string config_path;  // --config, else $USB_BACKUP_COPIER_CONFIG, else the default
  std::vector<std::string> args;  // what follows the command name
};

inline constexpr const char* kDefaultConfigPath = "/etc/usb-backup-copier/config.ini";

// usb-backup-copier
int cmd_copy(const Invocation& inv);
int cmd_verify(const Invocation& inv);
int cmd_match(const Invocation& inv);
int cmd_check_config(const Invocation& inv);
int cmd_status(const Invocation& inv);
int cmd_serve(const Invocation& inv);
int cmd_check_stale(const Invocation& inv);
int cmd_prepare_disk(const Invocation& inv);
int cmd_enroll(const Invocation& inv);

struct Config;
// `enroll --device`'s work, also done by prepare-disk for the disk it made: enrols the disk
// on devnode with the real adapters and prints the outcome. The exit code.
int enroll_device(const std::string& program, const Config& config, const std::string& devnode);

// veeam-lock / veeam-unlock
int cmd_veeam_lock(const Invocation& inv);
int cmd_veeam_unlock(const Invocation& inv);

}  // namespace ubc
