// SPDX-License-Identifier: MIT
// `usb-backup-copier check-config`: every problem of the configuration, or a summary of
// what the copier will do with it.
#include <algorithm>
#include <iostream>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "core/encrypted_disk.h"
#include "core/restore_points.h"
#include "core/text.h"
#include "sys/cryptsetup_volumes.h"
#include "sys/directory_enrollment_store.h"
#include "sys/posix_file_system.h"
#include "sys/udev_device_finder.h"

namespace ubc {
namespace {

constexpr const char* kUsage = "usage: usb-backup-copier [--config PATH] check-config\n";

std::string security_name(MailSecurity security) {
  switch (security) {
    case MailSecurity::starttls:
      return "starttls";
    case MailSecurity::tls:
      return "tls";
    case MailSecurity::none:
      return "none, unencrypted";
  }
  return "starttls";
}

void print_enrollment(const Config& c);

void print_summary(const Config& c, std::size_t warnings) {
  std::cout << c.path << ": OK" << (warnings > 0 ? " (" + count_of(warnings, "warning", "warnings") + ")" : "")
            << "\n";
  std::size_t width = 0;
  for (const DiskEntry& disk : c.disks) width = std::max(width, disk.uuid.size());
  std::cout << "Disks (" << c.disks.size() << "):\n";
  for (const DiskEntry& disk : c.disks) {
    std::cout << "  " << disk.uuid << std::string(width - disk.uuid.size() + 2, ' ')
              << (disk.mails.empty() ? "mails go to the sysops only"
                                     : "also mails " + join(disk.mails, ", "))
              << "\n";
  }
  std::cout << "Source:       " << c.backup_source << "\n"
            << "Mount point:  " << c.backup_destination << "\n"
            << "Mail:         " << c.mail_server << ":" << c.effective_mail_port() << " ("
            << security_name(c.mail_security) << "), from " << c.from_mail << " to "
            << join(c.sysop_mails, ", ") << (c.cc_mails.empty() ? "" : ", cc " + join(c.cc_mails, ", ")) << "\n"
            << "Run lock:     " << c.backup_lockfile_path << "\n"
            << "Veeam leases: " << c.veeam_lockfiles << " (coordination file "
            << c.veeam_lockfile_path << ")\n"
            << "Restore points: " << describe_restore_points(c.restore_points) << "\n";
  print_enrollment(c);
}

// Whether disks must prove they are ours, and which of them could not yet.
void print_enrollment(const Config& c) {
  if (!c.require_enrollment) {
    std::cout << "Enrollment:   not required\n"
              << "warning: require-enrollment = no: any disk that claims a whitelisted UUID receives the "
                 "backups, and anyone can make a filesystem with any UUID; enroll each disk "
                 "('usb-backup-copier enroll --device /dev/sdX1'), then set require-enrollment = yes\n";
    return;
  }
  std::vector<std::string> missing;
  try {
    DirectoryEnrollmentStore store(c.state_directory);
    for (const DiskEntry& disk : c.disks)
      if (!store.find(disk.uuid)) missing.push_back(disk.uuid);
  } catch (const std::exception& e) {
    std::cout << "Enrollment:   required; the enrolled disks cannot be read: " << e.what() << "\n";
    return;
  }
  std::cout << "Enrollment:   required; " << c.disks.size() - missing.size() << " of " << c.disks.size()
            << " disks enrolled\n";
  for (const std::string& uuid : missing)
    std::cout << "warning: disk " << uuid << " is not enrolled and will be refused; plug it in and run "
              << "'usb-backup-copier enroll --device /dev/sdX1'\n";
}

// Encrypted disks are opened with key files beside the configuration: each must be root's
// alone, and a whitelisted LUKS disk that is plugged in now must have one.
std::vector<ConfigProblem> key_problems(const Config& c) {
  std::vector<ConfigProblem> problems;
  const auto warn = [&](std::string message) {
    problems.push_back(ConfigProblem{ConfigProblem::Severity::warning, 0, "keys", std::move(message)});
  };
  PosixFileSystem fs;
  const std::string dir = key_directory(c);
  if (fs.kind(dir) == PathKind::directory) {
    for (const std::string& name : fs.list_entries(dir)) {
      if (name.size() < 5 || name.compare(name.size() - 4, 4, ".key") != 0) continue;
      try {
        (void)read_key_file(dir + "/" + name);
      } catch (const VolumeError& e) {
        warn(std::string(e.what()) + "; the copier refuses to use it");
      }
    }
  }
  try {
    for (const BlockDevice& device : UdevDeviceFinder().all()) {
      if (device.fstype != kLuksFsType || c.find_disk(device.uuid) == nullptr) continue;
      const auto key = key_file_path(c, device.uuid);
      if (key && fs.kind(*key) == PathKind::missing)
        warn("the encrypted disk " + device.uuid + " on " + device.devnode + " has no key file '" + *key +
             "'; copy its key file there (from the backup of the keys directory) or the copy will be refused");
    }
  } catch (const std::exception& e) {
    warn(std::string("cannot list the plugged-in disks to check their key files: ") + e.what());
  }
  return problems;
}

}  // namespace

int cmd_check_config(const Invocation& inv) {
  if (!inv.args.empty()) {
    return usage_error(inv.program, "check-config takes no arguments", kUsage);
  }
  ConfigResult result = load_config(inv.config_path);
  if (!result.has_errors()) {
    for (ConfigProblem& problem : key_problems(result.config)) result.problems.push_back(std::move(problem));
  }
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const ConfigProblem& problem : result.problems) {
    std::cout << format_problem(inv.config_path, problem) << "\n";
    (problem.severity == ConfigProblem::Severity::error ? errors : warnings)++;
  }
  if (errors > 0) {
    std::cout << inv.config_path << ": " << count_of(errors, "error", "errors")
              << (warnings > 0 ? ", " + count_of(warnings, "warning", "warnings") : "")
              << "; the copier refuses to start until the errors are fixed\n";
    return kExitConfig;
  }
  print_summary(result.config, warnings);
  return kExitOk;
}

}  // namespace ubc
