// SPDX-License-Identifier: MIT
// `prepare-disk`'s decisions: which disk may be erased, what the admin must type to confirm,
// which label the filesystem can hold, and how the new disk's UUID joins the whitelist in
// config.ini without disturbing the rest of the file. The facts come from src/sys; nothing
// here touches a disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ubc {

// A block device as sysfs and udev describe it.
struct DiskFacts {
  std::string given;    // the path as typed after --device
  std::string devnode;  // symlinks resolved: /dev/sdb
  std::string name;     // kernel name: sdb, loop7, nvme0n1
  bool is_block_device = false;
  bool is_partition = false;
  std::string whole_disk;  // for a partition: the disk it belongs to (/dev/sdb)
  std::uint64_t size_bytes = 0;
  std::string model;     // vendor's model, may be empty (loop devices have none)
  bool removable = false;  // sysfs says removable, or the disk hangs on USB
  bool read_only = false;
  std::vector<std::string> partitions;  // devnodes of its partitions
  std::vector<std::string> holders;     // kernel names of devices stacked on it (dm-0, md0)
};

// Something on the system that needs the disk or one of its partitions.
struct DiskUse {
  enum class Kind { root, source, swap, mounted };
  Kind kind = Kind::mounted;
  std::string devnode;  // the disk or partition in use
  std::string where;    // mount point, or the swap area
};

inline constexpr const char* kByIdPrefix = "/dev/disk/by-id/";

// Why this disk must not be erased, or nullopt. The order is the order of danger: what holds
// the system or the repository first, then anything mounted, then the removable rule.
std::optional<std::string> prepare_refusal(const DiskFacts& disk,
                                           const std::vector<DiskUse>& uses,
                                           const std::string& backup_source);

// What the admin types back to confirm, e.g. "SanDisk Extreme 465.8 GiB".
std::string confirmation_phrase(const DiskFacts& disk);
// Case and runs of blanks do not matter; everything else does.
bool confirmation_matches(std::string_view typed, const DiskFacts& disk);

// nullopt if the filesystem can hold the label; else what is wrong with it.
std::optional<std::string> label_problem(std::string_view fstype, std::string_view label);

inline constexpr const char* kDefaultDiskLabel = "usb-backup";

// The disk list entry as the INI reader saw it: its first line (1-based) and its value with
// one "\n" per physical line it spans.
struct DiskListEntry {
  int line = 0;
  std::string value;
};

// config.ini's text with `uuid` added to the disk list on a line of its own, right after
// the list's last line (an indented line continues a value). nullopt when the text has no
// such entry or its lines are not where the entry says.
std::optional<std::string> add_disk_to_config_text(std::string_view text,
                                                   const DiskListEntry& entry,
                                                   std::string_view uuid);

// A recovery passphrase a person can copy from paper: 8 groups of 5 characters of
// Crockford's base32 (no I, L, O, U), 5 bits each -- 200 bits from `random`, which must
// hold at least 25 bytes (fewer give a shorter passphrase).
std::string recovery_passphrase(std::string_view random);
// nullopt if a passphrase typed by the admin is acceptable; else what is wrong with it.
std::optional<std::string> passphrase_problem(std::string_view passphrase);

}  // namespace ubc
