// SPDX-License-Identifier: MIT
// rsync's command line and the reading of its output (DESIGN.md §5). One argv builder for
// the dry run and the copy, so that the estimate describes exactly the copy that follows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/fs_limits.h"

namespace ubc {

enum class RsyncMode { dry_run, copy };

// Entries at the root of a disk that belong to the disk, not to the copy: the filesystem's
// own (lost+found, Windows' indexer and recycle bin) and ours (.usb-backup-copier). rsync
// never deletes them; counting and checking the copy leaves them out.
const std::vector<std::string>& disk_own_entries();
// rsync's --partial-dir: a directory of that name anywhere holds unfinished files.
inline constexpr std::string_view kRsyncPartialDir = ".rsync-partial";

// Filesystems that hold Unix owners, modes and symlinks (ext4, xfs, btrfs, ...). vfat,
// exfat and ntfs3 do not: ownership options are dropped and symlinks are skipped.
bool fs_has_unix_ownership(std::string_view fstype);

// The whole argv, "rsync" first. The source is copied onto the root of mount_point.
// dry_run adds --dry-run and an itemized out-format the parser reads; copy adds
// --info=progress2 --no-inc-recursive. Both add --stats. link_dest (absolute) not empty:
// unchanged files are hard-linked from that earlier copy (a restore point).
std::vector<std::string> build_rsync_argv(const Config& config, const std::string& fstype,
                                          const std::string& mount_point, RsyncMode mode,
                                          const std::string& link_dest = {});

// Restore points on xfs and btrfs: a changed file at least this big is cloned from the
// newest restore point and updated in place (README.md, "Restore points"), so it costs
// only its changed blocks. Below it a whole new copy costs little, and the delta transfer
// (which reads the old version back from the disk) gains little; Veeam's incremental
// files are mostly larger, and the full backup file it rewrites always is.
inline constexpr std::uint64_t kInPlaceMinBytes = 16ULL << 20;

// The pass that updates those clones in place: the files named in list_file (relative to
// the source, each ended by a NUL, so that any name is safe) are written into the copy at
// copy_root by rsync's delta transfer. The whole argv, "rsync" first.
std::vector<std::string> build_in_place_argv(const Config& config, const std::string& copy_root,
                                             const std::string& list_file);

// Continues one file that a stopped copy left in rsync's partial dir: appends to
// partial_file what source_file holds beyond it (--append-verify), leaving it complete and
// checked under the partial name. The whole argv, "rsync" first.
std::vector<std::string> build_resume_argv(const Config& config, const std::string& fstype,
                                           const std::string& source_file,
                                           const std::string& partial_file);
// "dir/.rsync-partial/name" -> "dir/name": the file that a partial copy is the start of;
// nullopt for a path that is not directly inside a partial dir.
std::optional<std::string> partial_target(std::string_view path);

// The figures of rsync's --stats block.
struct RsyncStats {
  std::uint64_t files_total = 0;            // "Number of files"
  std::uint64_t regular_files_transferred = 0;  // "Number of regular files transferred"
  std::uint64_t files_deleted = 0;          // "Number of deleted files"
  std::uint64_t total_file_size = 0;        // "Total file size"
  std::uint64_t transferred_file_size = 0;  // "Total transferred file size"
};

// Parses a --stats block anywhere in text; nullopt if none is there.
std::optional<RsyncStats> parse_rsync_stats(std::string_view text);

// One --info=progress2 line: "  1,234,567  12%   1.23MB/s    0:00:01 (xfr#3, to-chk=10/20)".
struct ProgressSample {
  std::uint64_t bytes = 0;  // bytes transferred so far in this run
  int percent = 0;
  std::uint64_t files_transferred = 0;  // xfr#
};

std::optional<ProgressSample> parse_progress_line(std::string_view line);

// Reads rsync's stdout as it arrives, split on '\r' and '\n' (progress2 rewrites its line
// with '\r'). Understands both the dry run's itemized lines and the copy's progress lines.
class RsyncOutputReader {
 public:
  RsyncOutputReader() = default;
  // A dry run onto a filesystem with limits (FAT, exFAT) also collects the entries that
  // filesystem cannot store.
  explicit RsyncOutputReader(FsLimits limits) : unstorable_(std::move(limits)) {}

  void feed(std::string_view chunk);
  // Treats a last unterminated line as complete.
  void finish();

  // The newest progress line seen since the previous call, if any.
  std::optional<ProgressSample> take_progress();

  // Dry run: the largest regular file that replaces an existing one (rsync writes the new
  // version beside the old one, so that much room is needed at once).
  std::uint64_t largest_updated_file() const { return largest_updated_file_; }
  // Dry run: paths (relative to the destination root, unescaped) of regular files of at
  // least kInPlaceMinBytes that replace an existing version (on the disk, or in the
  // --link-dest copy); new files are not among them.
  const std::vector<std::string>& big_updated_files() const { return big_updated_files_; }
  // Dry run: paths (relative to the destination root, unescaped) of files it would delete.
  const std::vector<std::string>& deleted_paths() const { return deleted_paths_; }
  // "skipping non-regular file" lines: symlinks on filesystems that cannot hold them.
  std::uint64_t skipped_non_regular() const { return skipped_non_regular_; }
  // Every line that is neither progress nor itemized: the --stats block, messages.
  const std::string& text() const { return text_; }
  // Dry run: what the disk's filesystem cannot store (nothing without limits).
  const UnstorableEntries& unstorable() const { return unstorable_; }

  // Forgets what was read, keeping the limits: a dry run that starts over.
  void restart() { *this = RsyncOutputReader(unstorable_.limits()); }

 private:
  void line(std::string_view l);

  std::string partial_;
  std::optional<ProgressSample> progress_;
  std::uint64_t largest_updated_file_ = 0;
  std::vector<std::string> deleted_paths_;
  std::vector<std::string> big_updated_files_;
  std::uint64_t skipped_non_regular_ = 0;
  std::string text_;
  UnstorableEntries unstorable_;
};

// rsync's own meaning of an exit code: "Partial transfer due to error (23)".
std::string rsync_exit_meaning(int code);
// The last `max` lines of stderr that say something (rsync's own error lines).
std::vector<std::string> last_error_lines(std::string_view stderr_text, std::size_t max);

}  // namespace ubc
