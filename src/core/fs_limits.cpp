// SPDX-License-Identifier: MIT
#include "core/fs_limits.h"

#include <cstdio>

#include "core/format.h"
#include "core/mime.h"

namespace ubc {

namespace {

// The characters the Windows namespace forbids. Linux's vfat driver refuses them
// (vfat_bad_char), its exfat driver too (bad_uni_chars), with the control characters.
constexpr std::string_view kForbiddenChars = "\"*/:<>?\\|";

// A FAT32 directory entry holds the size in 32 bits.
constexpr std::uint64_t kFat32MaxFileSize = 0xFFFFFFFFULL;

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", c);
  return buf;
}

std::string_view last_component(std::string_view path) {
  while (path.ends_with('/')) path.remove_suffix(1);
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

FsLimits fs_limits(std::string_view kernel_fstype) {
  FsLimits limits;
  limits.fstype = std::string(kernel_fstype);
  if (kernel_fstype == "vfat") {
    limits.max_file_size = kFat32MaxFileSize;
    limits.windows_names = true;
    // vfat_striptail_len() drops trailing dots, so "a." would be stored as "a";
    // vfat_valid_longname() refuses a trailing space with EINVAL.
    limits.no_trailing_dot = true;
    limits.no_trailing_space = true;
  } else if (kernel_fstype == "exfat") {
    limits.windows_names = true;
    // exfat_striptail_len() drops trailing dots too (unless mounted keep_last_dots, which
    // would give Windows names it cannot open); trailing spaces are kept.
    limits.no_trailing_dot = true;
  }
  return limits;
}

std::optional<std::string> why_unstorable(const FsLimits& limits, std::string_view path,
                                          bool regular_file, std::uint64_t size) {
  if (regular_file && limits.max_file_size != 0 && size > limits.max_file_size)
    return format_bytes(size) + "; " + limits.fstype + " holds files up to 4 GiB - 1 byte";
  if (!limits.windows_names) return std::nullopt;
  const std::string_view name = last_component(path);
  if (name.empty() || name == "." || name == "..") return std::nullopt;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20) return "control character " + hex_byte(c) + " is not allowed";
    if (kForbiddenChars.find(ch) != std::string_view::npos)
      return std::string("'") + ch + "' is not allowed";
  }
  if (valid_utf8(name) != name) return std::string("not valid UTF-8");
  if (limits.no_trailing_dot && name.ends_with('.')) return std::string("ends in a dot");
  if (limits.no_trailing_space && name.ends_with(' ')) return std::string("ends in a space");
  return std::nullopt;
}

void UnstorableEntries::check(std::string_view path, bool regular_file, std::uint64_t size) {
  if (!limits_.any()) return;
  const auto why = why_unstorable(limits_, path, regular_file, size);
  if (!why) return;
  ++count_;
  if (regular_file && limits_.max_file_size != 0 && size > limits_.max_file_size)
    too_large_seen_ = true;
  if (listed_.size() < kListed) listed_.push_back("'" + printable_path(path) + "' (" + *why + ")");
}

void UnstorableEntries::clear() {
  count_ = 0;
  too_large_seen_ = false;
  listed_.clear();
}

UnstorableMessage describe_unstorable(const UnstorableEntries& entries) {
  const std::uint64_t n = entries.count();
  std::string reason = std::to_string(n) + (n == 1 ? " file or folder" : " files or folders") +
                       " of the source cannot be stored on the disk's " + entries.limits().fstype +
                       " filesystem: ";
  for (std::size_t i = 0; i < entries.listed().size(); ++i)
    reason += (i == 0 ? "" : ", ") + entries.listed()[i];
  if (n > entries.listed().size())
    reason += " and " + std::to_string(n - entries.listed().size()) + " more";
  reason += "; nothing was written to the disk";
  std::string advice =
      "Exclude them in the file named by 'rsync-excludes-file' (or rename them in the source), "
      "or format the disk as ext4";
  if (entries.too_large_seen()) advice += " or exFAT (both hold files of 4 GiB and more)";
  advice += " and whitelist its new UUID";
  return {std::move(reason), std::move(advice)};
}

std::string printable_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) out += hex_byte(c);
    else out += ch;
  }
  return valid_utf8(out);
}

}  // namespace ubc
