// SPDX-License-Identifier: MIT
#include "core/config.h"

#include <algorithm>
#include <utility>

#include "core/config_reader.h"
#include "core/config_values.h"
#include "core/lease.h"
#include "core/text.h"

namespace ubc {

using namespace config_values;

namespace {

constexpr std::string_view kUuidForms =
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789 (ext4, xfs, btrfs), 1A2B-3C4D (FAT, exFAT) or "
    "0123456789ABCDEF (NTFS)";

std::string uuid_hint(const std::string& token) {
  const std::string l = lower(token);
  if (l.rfind("/dev/", 0) == 0) {
    return quoted(token) + " is a device, not a filesystem UUID; device names change from " +
           "plug to plug, so write the UUID that `blkid " + token + "` shows";
  }
  if (l.rfind("uuid=", 0) == 0 || token.find('"') != std::string::npos) {
    return quoted(token) + " is not a bare UUID; write only the UUID, without UUID= and quotes";
  }
  if (has_space(token)) {
    return quoted(token) + " is not a filesystem UUID; separate UUIDs and addresses with commas";
  }
  return quoted(token) +
         " is not a filesystem UUID; write it as `lsblk -f` shows it: " + std::string(kUuidForms);
}

void read_disks(ConfigReader& r, Config& c) {
  const std::string key = ConfigReader::name("Backup", kDiskListKey);
  const IniEntry* entry = r.required(
      "Backup", kDiskListKey,
      "no disk would ever be copied; list the filesystem UUIDs of the rotation disks, each "
      "followed by the addresses that get its mails, e.g. `" +
          std::string(kDiskListKey) +
          " = 0a1b2c3d-4e5f-6789-abcd-ef0123456789, alice@example.com` (`lsblk -f` shows "
          "UUIDs)");
  if (entry == nullptr) return;
  std::vector<DiskEntry>& disks = c.disks;
  const std::vector<ListItem> items = split_list(entry->value);
  // Index of the disk that the following addresses belong to; none after a bad UUID, whose
  // addresses are then dropped without a second message.
  std::optional<std::size_t> current;
  bool after_bad_uuid = false;
  for (const ListItem& item : items) {
    const int line = entry->line + item.line_offset;
    if (item.text.find('@') != std::string::npos) {
      if (!current) {
        if (!after_bad_uuid) {
          r.error(line, key,
                  "mail address " + quoted(item.text) + " comes before any disk UUID; write " +
                      "the disk's UUID first, then its addresses: UUID, " + item.text);
        }
        continue;
      }
      if (r.check_mail(line, key, item.text)) disks[*current].mails.push_back(item.text);
      continue;
    }
    const std::string uuid = lower(item.text);
    if (!is_valid_fs_uuid(uuid)) {
      r.error(line, key, uuid_hint(item.text));
      current.reset();
      after_bad_uuid = true;
      continue;
    }
    after_bad_uuid = false;
    const auto twin = std::find_if(disks.begin(), disks.end(),
                                   [&](const DiskEntry& d) { return d.uuid == uuid; });
    if (twin != disks.end()) {
      r.error(line, key,
              "UUID " + item.text + " is listed twice (lines " + std::to_string(twin->line) +
                  " and " + std::to_string(line) +
                  "); list each disk once, followed by all of its addresses");
      current = static_cast<std::size_t>(twin - disks.begin());
      continue;
    }
    disks.push_back(DiskEntry{uuid, {}, line});
    current = disks.size() - 1;
  }
}

// The run lock. The older script's files name it relative to the source (`.lock`), which
// is read from backup-source as that script did.
void read_backup_lockfile(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  constexpr std::string_view kKey = "backup-lockfile-path";
  const IniEntry* entry = r.single("Backup", kKey);
  std::optional<std::string> lock;
  if (entry != nullptr && !entry->value.empty() && entry->value.front() != '/') {
    // Without a usable source its own error says what to fix; nothing to resolve against.
    if (c.backup_source.empty()) return;
    lock = resolve_path(c.backup_source, entry->value);
  } else {
    lock = r.read_path("Backup", kKey, "/srv/veeam/.usb-backup-copier.lock");
  }
  if (!lock) {
    if (!c.backup_source.empty()) c.backup_lockfile_path = c.backup_source + "/.usb-backup-copier.lock";
    return;
  }
  if (env.is_directory(*lock)) {
    r.error(entry->line, "Backup." + std::string(kKey),
            quoted(*lock) + " is a directory, but the run lock is a file; write the file's " +
                "path, e.g. `" + std::string(kKey) + " = " + resolve_path(*lock, ".usb-backup-copier.lock") +
                "`, or delete the line for the default");
    return;
  }
  c.backup_lockfile_path = *lock;
}

void read_backup(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  const std::optional<std::string> source =
      r.required_single("Backup", "backup-source",
                        "write `backup-source = /srv/veeam` in [Backup]: the directory that "
                        "holds the Veeam repository")
          ? r.read_path("Backup", "backup-source", "/srv/veeam")
          : std::nullopt;
  if (source && env.is_directory(*source)) {
    c.backup_source = *source;
  } else if (source) {
    r.error(r.find("Backup", "backup-source")->line, "Backup.backup-source",
            quoted(*source) + " does not exist or is not a directory; set backup-source to " +
                "the directory that holds the Veeam repository");
  }

  const IniEntry* dest_entry = r.required_single(
      "Backup", "backup-destination",
      "write `backup-destination = /media/usb-backup-copier` in [Backup]: the empty "
      "directory the disk is mounted on");
  const std::optional<std::string> dest =
      dest_entry ? r.read_path("Backup", "backup-destination", "/media/usb-backup-copier")
                 : std::nullopt;
  if (dest) {
    if (!c.backup_source.empty() &&
        (is_same_or_below(*dest, c.backup_source) || is_same_or_below(c.backup_source, *dest))) {
      r.error(dest_entry->line, "Backup.backup-destination",
              quoted(*dest) + " overlaps backup-source " + quoted(c.backup_source) +
                  ", so the copy would copy itself; mount the disk outside the source, e.g. "
                  "backup-destination = /media/usb-backup-copier");
    } else if (!env.is_directory(*dest)) {
      r.error(dest_entry->line, "Backup.backup-destination",
              quoted(*dest) + " does not exist or is not a directory; the disk is mounted " +
                  "there, so create it with `mkdir -p " + *dest + "`");
    } else {
      c.backup_destination = *dest;
    }
  }

  read_backup_lockfile(r, c, env);
  const auto set_path = [&](std::string_view key, std::string_view example, std::string& out) {
    if (auto p = r.read_path("Backup", key, example)) out = *p;
  };
  set_path("log-file-path", "/var/log/usb-backup-copier.log", c.log_file_path);
  set_path("rsync-log-file-path", "/var/log/usb-backup-copier-rsync.log", c.rsync_log_file_path);
  set_path("state-directory", "/var/lib/usb-backup-copier", c.state_directory);
  set_path("runtime-directory", "/run/usb-backup-copier", c.runtime_directory);
  r.read_existing_file(env, "Backup", "rsync-excludes-file", "/etc/usb-backup-copier/excludes",
                     "create it (one rsync exclude pattern per line) or delete this line",
                     c.rsync_excludes_file);

  constexpr int kWeekMinutes = 7 * 24 * 60;
  r.read_int("Backup", "wait-for-veeam-minutes", 0, kWeekMinutes, "minutes",
             c.wait_for_veeam_minutes);
  r.read_int("Backup", "wait-for-queue-minutes", 0, kWeekMinutes, "minutes",
             c.wait_for_queue_minutes);
  r.read_int("Backup", "stall-timeout-minutes", 1, kWeekMinutes, "minutes",
             c.stall_timeout_minutes);
  r.read_int("Backup", "rsync-update-ratio-seconds", 1, 86400, "seconds",
             c.rsync_update_ratio_seconds);
  r.read_int("Backup", "free-space-threshold-gb", 0, 1000000, "GB", c.free_space_threshold_gb);
  r.read_int("Backup", "veeam-lease-ttl-hours", 1, 720, "hours", c.veeam_lease_ttl_hours);
  r.read_int("Backup", "stale-after-days", 1, 3650, "days", c.stale_after_days);
  r.read_int("Backup", "history-keep-days", 0, 36500, "days", c.history_keep_days);
  r.read_int("Backup", "max-delete-percent", 0, 100, "percent", c.max_delete_percent);
  r.read_int("Backup", "restore-points", 1, 1000, "restore points", c.restore_points);
  r.read_bool("Backup", "copy-yields-to-veeam", c.copy_yields_to_veeam);
  r.read_bool("Backup", "source-must-be-mountpoint", c.source_must_be_mountpoint);
  r.read_choice("Backup", "verify",
              {{"written", VerifyMode::written}, {"all", VerifyMode::all}, {"none", VerifyMode::none}},
              "a verification mode; write written (read back what this run wrote), all (read back "
              "every file) or none",
              c.verify);
  r.read_bool("Backup", "require-enrollment", c.require_enrollment);
  r.read_bool("Backup", "security-strict", c.security_strict);
}

void read_veeam(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  const auto dir = r.read_path("VEEAM", "veeam-lockfiles", "/var/lib/usb-backup-copier/veeam");
  if (dir) c.veeam_lockfiles = *dir;
  r.read_int("VEEAM", "wait-for-backup-minutes", 0, 7 * 24 * 60, "minutes",
             c.wait_for_backup_minutes);
  if (const IniEntry* wait = r.find("VEEAM", "wait-for-backup-minutes");
      wait != nullptr && c.wait_for_backup_minutes >= 10) {
    r.warning(wait->line, "VEEAM.wait-for-backup-minutes",
              "Veeam stops a pre-job script after 10 minutes by default, so veeam-lock would be "
              "killed before this wait ends; write at most 9, or raise the script timeout in "
              "Veeam");
  }

  const auto in_directory = [](const std::string& directory) {
    return directory + (directory == "/" ? "" : "/") + std::string(kCoordinationFileName);
  };
  const auto lock = r.read_path("Backup", "veeam-lockfile-path",
                                "/var/lib/usb-backup-copier/veeam/coordination.lock");
  if (!lock) {
    c.veeam_lockfile_path = in_directory(c.veeam_lockfiles);
    return;
  }
  const IniEntry* lock_entry = r.find("Backup", "veeam-lockfile-path");
  // The older script's files name the directory of the Veeam lock files here, usually the
  // same as veeam-lockfiles; the coordination file then lives in it. A file is meant when
  // the path is an existing file or ends in ".lock" (as coordination.lock does).
  const bool existing_file = env.file_mode(*lock) && !env.is_directory(*lock);
  const bool lock_name = lock->size() > 5 && lock->compare(lock->size() - 5, 5, ".lock") == 0;
  const bool names_directory = env.is_directory(*lock) || (dir && *lock == *dir) ||
                               lock_entry->value.back() == '/' || (!existing_file && !lock_name);
  if (names_directory && dir && *lock != *dir) {
    r.error(lock_entry->line, "Backup.veeam-lockfile-path",
            quoted(*lock) + " is a directory other than veeam-lockfiles = " + quoted(*dir) +
                " (line " + std::to_string(r.find("VEEAM", "veeam-lockfiles")->line) +
                "); both name the one directory of the Veeam leases: write `veeam-lockfile-path = " +
                *dir + "` or delete the line");
  } else if (names_directory) {
    c.veeam_lockfiles = *lock;
    c.veeam_lockfile_path = in_directory(*lock);
  } else if (!dir) {
    // Only the file is set: its directory holds the leases.
    c.veeam_lockfile_path = *lock;
    c.veeam_lockfiles = parent_path(*lock);
  } else if (parent_path(*lock) != *dir) {
    r.error(lock_entry->line, "Backup.veeam-lockfile-path",
            quoted(*lock) + " is not in the lease directory veeam-lockfiles = " + quoted(*dir) +
                " (line " + std::to_string(r.find("VEEAM", "veeam-lockfiles")->line) +
                "); the coordination file must sit beside the leases: write " +
                "`veeam-lockfile-path = " + *dir + "` (the directory) or delete the line");
  } else {
    c.veeam_lockfile_path = *lock;
  }
}

void read_webserver(ConfigReader& r, Config& c) {
  if (const IniEntry* host = r.single("Webserver", "webhost"); host && !host->value.empty()) {
    if (has_space(host->value)) {
      r.error(host->line, "Webserver.webhost",
              "is not a host name or address; write `webhost = 127.0.0.1` (this machine only) "
              "or the address to listen on, e.g. 0.0.0.0 for every interface");
    } else {
      c.webhost = host->value;
    }
  }
  r.read_int("Webserver", "webport", 1, 65535, "", c.webport);
}

}  // namespace

const DiskEntry* Config::find_disk(std::string_view uuid) const {
  const auto it = std::find_if(disks.begin(), disks.end(),
                               [&](const DiskEntry& d) { return iequals(d.uuid, uuid); });
  return it == disks.end() ? nullptr : &*it;
}

int Config::effective_mail_port() const {
  if (mail_port != 0) return mail_port;
  switch (mail_security) {
    case MailSecurity::starttls:
      return 587;
    case MailSecurity::tls:
      return 465;
    case MailSecurity::none:
      return 25;
  }
  return 587;
}

bool ConfigResult::has_errors() const {
  return std::any_of(problems.begin(), problems.end(), [](const ConfigProblem& p) {
    return p.severity == ConfigProblem::Severity::error;
  });
}

void read_monitoring(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  constexpr std::string_view kExample = "/var/lib/prometheus/node-exporter/usb-backup-copier.prom";
  const auto file = r.read_path("Monitoring", "metrics-textfile", kExample);
  if (!file) return;
  const int line = r.find("Monitoring", "metrics-textfile")->line;
  // node_exporter's textfile collector reads only *.prom files.
  if (!file->ends_with(".prom")) {
    r.error(line, "Monitoring.metrics-textfile",
            quoted(*file) + " does not end in .prom, so node_exporter would not read it; write e.g. " +
                std::string(kExample));
    return;
  }
  const std::string directory = file->substr(0, file->rfind('/'));
  if (!env.is_directory(directory.empty() ? "/" : directory)) {
    r.error(line, "Monitoring.metrics-textfile",
            quoted(directory) + " does not exist or is not a directory; create it or write the textfile "
                                "collector's directory (node_exporter --collector.textfile.directory)");
    return;
  }
  c.metrics_textfile = *file;
}

void read_ping_url(ConfigReader& r, Config& c) {
  const IniEntry* entry = r.find("Monitoring", "ping-url");
  if (entry == nullptr || entry->value.empty()) return;
  const std::string& url = entry->value;
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    r.error(entry->line, "Monitoring.ping-url",
            quoted(url) + " is not an http:// or https:// URL; write e.g. `ping-url = https://hc-ping.com/<uuid>`");
    return;
  }
  c.ping_url = url;
}

ConfigResult build_config(const std::string& path, const std::vector<IniEntry>& entries,
                          const ConfigEnvironment& env) {
  ConfigResult result;
  Config& c = result.config;
  c.path = path;
  ConfigReader r(entries);
  read_disks(r, c);
  read_backup(r, c, env);
  read_veeam(r, c, env);
  read_mail(r, c, env);
  read_monitoring(r, c, env);
  read_ping_url(r, c);
  read_webserver(r, c);
  r.read_bool("Debug", "debug", c.debug);
  result.problems = r.take_problems();
  return result;
}

std::string format_problem(const std::string& path, const ConfigProblem& problem) {
  std::string out = path;
  if (problem.line > 0) out += ":" + std::to_string(problem.line);
  out += ": ";
  if (!problem.key.empty()) out += problem.key + ": ";
  if (problem.severity == ConfigProblem::Severity::warning) out += "warning: ";
  out += problem.message;
  return out;
}

const char* to_string(VerifyMode mode) {
  switch (mode) {
    case VerifyMode::written: return "written";
    case VerifyMode::all: return "all";
    case VerifyMode::none: return "none";
  }
  return "written";
}

}  // namespace ubc
