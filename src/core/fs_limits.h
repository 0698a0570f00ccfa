// SPDX-License-Identifier: MIT
// What the disk's filesystem cannot store (FAT and exFAT): files of 4 GiB and more on
// vfat, and names Windows' rules forbid, which Linux's drivers refuse or silently change.
// Found in the dry run's list, so that the job stops before anything is written instead of
// failing halfway through the copy or calling a disk complete that lacks files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ubc {

struct FsLimits {
  std::string fstype;                // as the messages name it
  std::uint64_t max_file_size = 0;   // 0: no limit a copy can reach
  bool windows_names = false;        // no "*/:<>?\| or control characters; valid UTF-8
  bool no_trailing_dot = false;      // the driver drops a name's trailing dots
  bool no_trailing_space = false;    // the driver refuses a name ending in a space

  bool any() const { return max_file_size != 0 || windows_names; }
};

// The limits of a filesystem type as the kernel names it (kernel_fstype()); none for ext4,
// xfs, btrfs and ntfs3.
FsLimits fs_limits(std::string_view kernel_fstype);

// Why the entry cannot be stored, or nullopt. path is relative to the copy's root and
// unescaped; only its last component is judged (a directory that cannot be stored is
// listed itself, before its contents). size counts for regular files only.
std::optional<std::string> why_unstorable(const FsLimits& limits, std::string_view path,
                                          bool regular_file, std::uint64_t size);

// The entries of one dry run that cannot be stored: the first few with the reason, and a
// count of all, so that a source of millions of bad names costs no memory.
class UnstorableEntries {
 public:
  static constexpr std::size_t kListed = 20;

  explicit UnstorableEntries(FsLimits limits = {}) : limits_(std::move(limits)) {}

  void check(std::string_view path, bool regular_file, std::uint64_t size);
  void clear();

  const FsLimits& limits() const { return limits_; }
  std::uint64_t count() const { return count_; }
  // "'dir/a:b.txt' (':' is not allowed)", at most kListed of them.
  const std::vector<std::string>& listed() const { return listed_; }
  bool too_large_seen() const { return too_large_seen_; }

 private:
  FsLimits limits_;
  std::uint64_t count_ = 0;
  bool too_large_seen_ = false;
  std::vector<std::string> listed_;
};

// The job's message when entries cannot be stored: what was found and what to do.
struct UnstorableMessage {
  std::string reason;
  std::string advice;
};
UnstorableMessage describe_unstorable(const UnstorableEntries& entries);

// A path from the disk or the source made safe to show: control characters as \xNN,
// invalid UTF-8 as U+FFFD.
std::string printable_path(std::string_view path);

}  // namespace ubc
