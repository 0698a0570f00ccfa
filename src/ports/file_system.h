// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/manifest.h"

namespace ubc {

struct SpaceInfo {
  std::uint64_t free_bytes = 0;   // available to an unprivileged writer... and root
  std::uint64_t total_bytes = 0;
};

enum class PathKind { missing, directory, file, other };

// What a file system holds besides regular files and directories.
enum class SpecialKind { symlink, device, fifo, socket };

// File system questions and small files (status, state.json, run logs). Paths are absolute.
// Files are opened with O_NOFOLLOW | O_CLOEXEC. Errors throw std::system_error.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual PathKind kind(const std::string& path) = 0;
  // The directory can be opened and listed.
  virtual bool readable_directory(const std::string& path) = 0;
  // Names of the entries directly in the directory ("." and ".." left out).
  virtual std::vector<std::string> list_entries(const std::string& path) = 0;
  // Regular files, symlinks and others below path, recursively, not crossing mounts; the
  // entries of path itself named in leave_out (and all below them) are left out.
  virtual std::uint64_t count_files_recursive(const std::string& path,
                                              const std::vector<std::string>& leave_out) = 0;
  // Calls visit(relative path, stamp) for every regular file below root, recursively, not
  // crossing mounts and not following symlinks; leave_out as for count_files_recursive.
  using FileVisitor = std::function<void(const std::string& relative_path, const FileStamp& stamp)>;
  virtual void walk_files(const std::string& root, const std::vector<std::string>& leave_out,
                          const FileVisitor& visit) = 0;
  // Calls visit(relative path) for every directory below root, recursively, not crossing
  // mounts and not following symlinks; leave_out as for count_files_recursive.
  using DirectoryVisitor = std::function<void(const std::string& relative_path)>;
  virtual void walk_directories(const std::string& root, const std::vector<std::string>& leave_out,
                                const DirectoryVisitor& visit) = 0;
  // Calls visit(relative path, kind) for every entry below root that is neither a regular
  // file nor a directory, recursively, not crossing mounts and not following symlinks;
  // leave_out as for count_files_recursive.
  using SpecialVisitor = std::function<void(const std::string& relative_path, SpecialKind kind)>;
  virtual void walk_special(const std::string& root, const std::vector<std::string>& leave_out,
                            const SpecialVisitor& visit) = 0;
  virtual bool is_mountpoint(const std::string& path) = 0;
  // Size of a regular file (not following a symlink); nullopt for anything else or nothing.
  virtual std::optional<std::uint64_t> file_size(const std::string& path) = 0;
  virtual SpaceInfo space(const std::string& path) = 0;

  // nullopt if there is no such file. Anything else in its place (a symlink, FIFO, device
  // node, directory) or a file over max_bytes throws: whatever is read from a disk is
  // hostile, and must neither block the job nor exhaust its memory.
  virtual std::optional<std::string> read_file(const std::string& path, std::uint64_t max_bytes) = 0;
  // Writes path.tmp, fsyncs it and renames it over path.
  virtual void write_atomic(const std::string& path, const std::string& data, unsigned mode) = 0;
  virtual void append(const std::string& path, const std::string& data) = 0;
  // False if it was not there.
  virtual bool remove(const std::string& path) = 0;
  // rename(2) within one filesystem: replaces `to` if it exists.
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // rmdir(2); false if it was not there or is not empty. The parent keeps its times: the
  // copy's directories carry the source's, and a removed leftover must not change them.
  virtual bool remove_empty_directory(const std::string& path) = 0;
  virtual void make_directories(const std::string& path, unsigned mode) = 0;

  // Restore points (DESIGN.md §5). Each change is durable when the call returns: the
  // directories it changed are synced.
  // rename(2) of a file or directory within one filesystem; never replaces an existing `to`.
  virtual void rename_no_replace(const std::string& from, const std::string& to) = 0;
  // Makes path a symlink to target (relative targets stay relative), atomically: a
  // symlink at a temporary name renamed over path. Readers see the old link or the new one.
  virtual void replace_symlink(const std::string& path, const std::string& target) = 0;
  // Removes path and everything below it, not following symlinks; nothing there: false.
  virtual bool remove_tree(const std::string& path) = 0;
  // What removing every tree in roots would free: the allocated blocks of the regular
  // files whose every hard link lies within roots. A file also linked from elsewhere (an
  // unchanged file shared with a newer restore point) frees nothing.
  virtual std::uint64_t bytes_freed_by_removing(const std::vector<std::string>& roots) = 0;
  // Makes `to` a new file that shares the blocks of the regular file `from` (a reflink,
  // FICLONE on xfs and btrfs): made at a temporary name beside `to` and renamed over it,
  // so `to` is an inode of its own even where it was a hard link, and writing into it
  // never changes `from`. Mode 0600, owned by the caller, modified at the epoch (so that
  // until it is updated it never looks up to date to rsync). Neither path's last component is
  // followed if a symlink. False, with nothing changed, when the filesystem cannot share
  // blocks between these two files (no reflink support, or two filesystems).
  virtual bool clone_file(const std::string& from, const std::string& to) = 0;
};

}  // namespace ubc
