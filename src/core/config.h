// SPDX-License-Identifier: MIT
// The typed configuration (DESIGN.md §6) and its validation. Reading the INI file is the
// job of src/sys/ini_file; this file only turns its entries into a Config and judges them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ports/config_environment.h"

namespace ubc {

enum class MailSecurity { starttls, tls, none };

// What the copy job reads back after the sync (DESIGN.md §4 step 9): the files this run
// wrote, every file, or nothing.
enum class VerifyMode { written, all, none };
const char* to_string(VerifyMode mode);

// One whitelisted disk and the extra recipients of its mails.
struct DiskEntry {
  std::string uuid;  // lower-cased, as it will be compared
  std::vector<std::string> mails;
  int line = 0;  // where it was listed, for messages
};

struct Config {
  std::string path;  // the file this came from

  // [Backup]
  std::vector<DiskEntry> disks;
  std::string backup_source;
  std::string backup_destination;    // mount point of the disk
  std::string backup_lockfile_path;  // default: <backup_source>/.usb-backup-copier.lock
  std::string veeam_lockfile_path;   // coordination file; default <veeam_lockfiles>/coordination.lock
  std::string log_file_path;
  std::string rsync_log_file_path;
  int wait_for_veeam_minutes = 120;
  int rsync_update_ratio_seconds = 60;
  int free_space_threshold_gb = 50;
  std::string state_directory = "/var/lib/usb-backup-copier";
  std::string runtime_directory = "/run/usb-backup-copier";
  std::string rsync_excludes_file;
  int stall_timeout_minutes = 30;
  bool copy_yields_to_veeam = true;
  int veeam_lease_ttl_hours = 24;
  int stale_after_days = 8;
  int history_keep_days = 365;  // 0: keep every run
  bool require_enrollment = false;  // refuse disks that cannot show their enrollment secret
  bool security_strict = false;      // a readable password is an error, not a warning
  int max_delete_percent = 50;
  bool source_must_be_mountpoint = false;
  int wait_for_queue_minutes = 720;
  VerifyMode verify = VerifyMode::written;
  // 1: the disk's root mirrors the source. 2 or more: that many dated copies (restore
  // points) on ext4, xfs and btrfs disks; other filesystems are mirrored (DESIGN.md §5).
  int restore_points = 1;

  // [Monitoring]
  std::string metrics_textfile;  // empty: off
  std::string ping_url;          // empty: off

  // [Mail]
  std::vector<std::string> sysop_mails;
  std::string from_mail;
  std::vector<std::string> cc_mails;
  std::string mail_server;
  int mail_port = 0;  // 0: the default of `security` (587, 465, 25)
  std::string mail_username;
  std::string mail_password;  // never logged
  std::string mail_password_file;
  std::string mail_ca_file;  // CA(s) that sign the server's certificate; empty: the system's
  MailSecurity mail_security = MailSecurity::starttls;
  bool send_start_mail = true;

  // [Webserver]
  std::string webhost = "127.0.0.1";
  int webport = 8080;

  // [VEEAM]
  std::string veeam_lockfiles = "/var/lib/usb-backup-copier/veeam";  // lease directory
  int wait_for_backup_minutes = 5;

  // [Debug]
  bool debug = false;

  // The whitelisted entry for a filesystem UUID (case-insensitive), or nullptr.
  const DiskEntry* find_disk(std::string_view uuid) const;
  // The SMTP port in effect: mail_port, or the default of mail_security.
  int effective_mail_port() const;
};

// One `key = value` as read from the file.
struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  int line = 0;
};

struct ConfigProblem {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  int line = 0;  // 0: not tied to a line
  std::string key;  // "section.key" or "" for the file as a whole
  std::string message;  // what is wrong and what to write instead
};

struct ConfigResult {
  Config config;
  std::vector<ConfigProblem> problems;
  bool has_errors() const;
};

// Builds and validates a Config from the entries of `path` (for messages). Every problem
// is reported, not only the first.
ConfigResult build_config(const std::string& path, const std::vector<IniEntry>& entries,
                          const ConfigEnvironment& env);

// `file:line: key: message`, the form check-config prints.
std::string format_problem(const std::string& path, const ConfigProblem& problem);

// True for the three UUID forms: 36-char ext4/xfs, XXXX-XXXX FAT/exFAT, 16-hex NTFS.
bool is_valid_fs_uuid(std::string_view uuid);
bool is_valid_mail_address(std::string_view address);

}  // namespace ubc
