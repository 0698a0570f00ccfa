// SPDX-License-Identifier: MIT
#include "core/prepare_disk.h"

#include <algorithm>

#include "core/format.h"
#include "core/text.h"

namespace ubc {

namespace {

std::string collapse_blanks(std::string_view text) {
  std::string out;
  bool blank = false;
  for (const char c : trim(text)) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

std::string use_text(const DiskUse& use) {
  switch (use.kind) {
    case DiskUse::Kind::root:
      return quoted(use.devnode) + " holds the root filesystem /";
    case DiskUse::Kind::source:
      return quoted(use.devnode) + " holds the repository backup-source " + quoted(use.where);
    case DiskUse::Kind::swap:
      return quoted(use.devnode) + " is in use as swap";
    case DiskUse::Kind::mounted:
      break;
  }
  return quoted(use.devnode) + " is mounted at " + quoted(use.where);
}

const DiskUse* first_of(const std::vector<DiskUse>& uses, DiskUse::Kind kind) {
  const auto it = std::find_if(uses.begin(), uses.end(),
                               [kind](const DiskUse& use) { return use.kind == kind; });
  return it == uses.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> prepare_refusal(const DiskFacts& disk,
                                           const std::vector<DiskUse>& uses,
                                           const std::string& backup_source) {
  const std::string name = quoted(disk.given);
  if (!disk.is_block_device) {
    return name + " is not a block device; name the whole disk, e.g. /dev/sdb or " +
           std::string(kByIdPrefix) + "usb-..., as `lsblk -d -o NAME,MODEL,SIZE,TRAN` lists it";
  }
  if (disk.is_partition) {
    return name + " is a partition; prepare-disk erases and partitions a whole disk, so name "
                  "the disk itself (" +
           quoted(disk.whole_disk) + ")";
  }
  for (const DiskUse::Kind kind : {DiskUse::Kind::root, DiskUse::Kind::source,
                                   DiskUse::Kind::swap, DiskUse::Kind::mounted}) {
    if (const DiskUse* use = first_of(uses, kind)) {
      std::string what = "refusing to erase " + name + ": " + use_text(*use);
      if (kind == DiskUse::Kind::root) return what + "; this is the system disk";
      if (kind == DiskUse::Kind::source) {
        return what + "; this disk holds what the copier copies (" + quoted(backup_source) + ")";
      }
      if (kind == DiskUse::Kind::swap) return what + "; run `swapoff " + use->devnode + "` first";
      return what + "; unmount it (`umount " + use->where + "`) and run prepare-disk again";
    }
  }
  if (!disk.holders.empty()) {
    return "refusing to erase " + name + ": it is in use by " + join(disk.holders, ", ") +
           " (device-mapper, LVM, RAID or an open encrypted volume); close that first";
  }
  if (disk.read_only) return name + " is read-only; check the disk's write-protect switch";
  if (!disk.removable && disk.given.rfind(kByIdPrefix, 0) != 0) {
    return name + " is not a removable or USB disk; if it really is the disk to erase, name "
                  "it by its stable name under " +
           std::string(kByIdPrefix) + " (`ls -l " + kByIdPrefix + "` shows which is which)";
  }
  return std::nullopt;
}

std::string confirmation_phrase(const DiskFacts& disk) {
  const std::string model = collapse_blanks(disk.model);
  return (model.empty() ? disk.name : model) + " " + format_bytes(disk.size_bytes);
}

bool confirmation_matches(std::string_view typed, const DiskFacts& disk) {
  return iequals(collapse_blanks(typed), confirmation_phrase(disk));
}

std::optional<std::string> label_problem(std::string_view fstype, std::string_view label) {
  const std::size_t limit = fstype == "xfs" ? 12 : 16;
  if (label.empty()) return "the label is empty; give one, e.g. --label offsite-1";
  if (label.size() > limit) {
    return quoted(label) + " is " + std::to_string(label.size()) + " bytes; " +
           std::string(fstype) + " labels hold at most " + std::to_string(limit);
  }
  const bool plain = std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
  if (!plain) {
    return quoted(label) + " has characters other than letters, digits, '-', '_' and '.'; "
                           "such labels read back the same everywhere";
  }
  return std::nullopt;
}

std::optional<std::string> add_disk_to_config_text(std::string_view text,
                                                   const DiskListEntry& entry,
                                                   std::string_view uuid) {
  if (entry.line < 1) return std::nullopt;
  const int last_line = entry.line + static_cast<int>(std::count(entry.value.begin(), entry.value.end(), '\n'));
  // Find the end of the entry's last physical line.
  std::size_t pos = 0;
  for (int line = 1; line <= last_line; ++line) {
    const std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) {
      if (line != last_line) return std::nullopt;
      pos = text.size();
      break;
    }
    pos = newline + 1;
  }
  std::string out(text.substr(0, pos));
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out += "    " + std::string(uuid) + "\n";
  out.append(text.substr(pos));
  return out;
}

std::string recovery_passphrase(std::string_view random) {
  // Crockford's base32: no I, L, O or U, so nothing reads as another character.
  static constexpr std::string_view kBits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t next = 0;
  for (int i = 0; i < 40; ++i) {
    if (bits < 5) {
      if (next == random.size()) break;
      buffer = (buffer << 8) | static_cast<unsigned char>(random[next++]);
      bits += 8;
    }
    const std::uint32_t value = (buffer >> (bits - 5)) & 31u;
    bits -= 5;
    if (i > 0 && i % 5 == 0) out.push_back('-');
    out.push_back(kBits[value]);
  }
  return out;
}

std::optional<std::string> passphrase_problem(std::string_view passphrase) {
  if (passphrase.size() < 16)
    return "the recovery passphrase has " + std::to_string(passphrase.size()) +
           " characters; use at least 16, or let prepare-disk make one (run it from a terminal)";
  if (passphrase.size() > 512) return "the recovery passphrase is longer than 512 characters";
  return std::nullopt;
}

}  // namespace ubc
