// SPDX-License-Identifier: MIT
// `usb-backup-copier enroll`: mark a disk as ours, list and forget enrolled disks.
#include <algorithm>
#include <iostream>
#include <system_error>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/enroll_disk.h"
#include "core/exit_codes.h"
#include "core/format.h"
#include "core/mime.h"
#include "core/text.h"
#include "ports/mounter.h"
#include "sys/cryptsetup_volumes.h"
#include "sys/directory_enrollment_store.h"
#include "sys/libmount_mounter.h"
#include "sys/posix_file_system.h"
#include "sys/system_clock.h"
#include "sys/udev_device_finder.h"

namespace ubc {
namespace {

constexpr const char* kUsage =
    "usage: usb-backup-copier [--config PATH] enroll (--device /dev/sdX1 | --list | --remove UUID)\n";

int list_enrolled(EnrollmentStore& store) {
  const auto all = store.list();
  if (all.empty()) {
    std::cout << "No disk is enrolled; enroll one with 'usb-backup-copier enroll --device /dev/sdX1'\n";
    return kExitOk;
  }
  std::size_t width = 4;
  for (const auto& e : all) width = std::max(width, e.uuid.size());
  std::cout << "UUID" << std::string(width - 4 + 2, ' ') << "ENROLLED              LABEL\n";
  for (const auto& e : all)
    // The label came from a disk: one_line keeps its control characters off the terminal.
    std::cout << e.uuid << std::string(width - e.uuid.size() + 2, ' ') << format_utc(e.enrolled_at) << "  "
              << one_line(e.label) << "\n";
  return kExitOk;
}

int remove_enrolled(const Invocation& inv, EnrollmentStore& store, const std::string& uuid) {
  if (!uuid_file_stem(uuid)) return usage_error(inv.program, "'" + one_line(uuid) + "' is not a filesystem UUID", kUsage);
  if (!store.remove(uuid)) {
    std::cerr << inv.program << ": disk " << uuid << " is not enrolled ('enroll --list' shows those that are)\n";
    return kExitFailed;
  }
  std::cout << "Forgot the enrollment of disk " << lower(uuid) << "\n";
  return kExitOk;
}

}  // namespace

int enroll_device(const std::string& program, const Config& config, const std::string& devnode) {
  DirectoryEnrollmentStore store(config.state_directory);
  UdevDeviceFinder devices;
  LibmountMounter mounter;
  PosixFileSystem fs;
  SystemClock clock;
  CryptsetupVolumes volumes;
  EnrollPorts ports{devices, mounter, fs, store, clock, volumes};
  EnrollResult result;
  try {
    result = enroll_disk(config, ports, devnode);
  } catch (const MountError& e) {
    std::cerr << program << ": could not mount " << devnode << " at '" << config.backup_destination
              << "': " << e.what() << "; see 'dmesg' for details\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << program << ": enrolling " << devnode << " failed: " << e.what()
              << "; the disk was unmounted and is not enrolled, try again\n";
    return kExitFailed;
  }
  if (!result.ok) {
    std::cerr << program << ": " << result.message << "; " << result.advice << "\n";
    return kExitFailed;
  }
  std::cout << result.message << "\n";
  if (!result.unmounted) std::cerr << program << ": " << result.advice << "\n";
  if (!config.require_enrollment)
    std::cout << "Once every disk is enrolled, set 'require-enrollment = yes' in [Backup] of '" << config.path
              << "'\n";
  return kExitOk;
}

int cmd_enroll(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  std::string error;
  const auto device = take_option(args, "--device", error);
  const auto remove = take_option(args, "--remove", error);
  const bool list = take_flag(args, "--list");
  if (!error.empty()) return usage_error(inv.program, error, kUsage);
  if (!args.empty()) return usage_error(inv.program, "unexpected argument '" + args.front() + "'", kUsage);
  if (int(device.has_value()) + int(remove.has_value()) + int(list) != 1)
    return usage_error(inv.program, "enroll needs exactly one of --device, --list or --remove", kUsage);
  const auto config = load_config_or_report(inv.config_path);
  if (!config) {
    std::cerr << inv.program << ": the configuration '" << inv.config_path
              << "' has errors (listed above); fix them, check with 'usb-backup-copier check-config'\n";
    return kExitConfig;
  }
  DirectoryEnrollmentStore store(config->state_directory);
  try {
    if (list) return list_enrolled(store);
    if (remove) return remove_enrolled(inv, store, *remove);
  } catch (const std::exception& e) {
    std::cerr << inv.program << ": " << e.what() << "\n";
    return kExitFailed;
  }
  return enroll_device(inv.program, *config, *device);
}

}  // namespace ubc
