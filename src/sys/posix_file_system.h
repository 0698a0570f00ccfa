// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ports/file_system.h"

namespace ubc {

// The FileSystem port on POSIX calls. Small files are opened with O_NOFOLLOW | O_CLOEXEC:
// a symlink planted at a status or state path is an error, never followed.
class PosixFileSystem final : public FileSystem {
 public:
  PosixFileSystem() = default;
  PosixFileSystem(const PosixFileSystem&) = delete;
  PosixFileSystem& operator=(const PosixFileSystem&) = delete;

  PathKind kind(const std::string& path) override;
  bool readable_directory(const std::string& path) override;
  std::vector<std::string> list_entries(const std::string& path) override;
  std::uint64_t count_files_recursive(const std::string& path, const std::vector<std::string>& leave_out) override;
  void walk_files(const std::string& root, const std::vector<std::string>& leave_out, const FileVisitor& visit) override;
  void walk_special(const std::string& root, const std::vector<std::string>& leave_out,
                    const SpecialVisitor& visit) override;
  // True when the kernel's mount table has a mount at path (bind mounts included).
  void walk_directories(const std::string& root, const std::vector<std::string>& leave_out,
                        const DirectoryVisitor& visit) override;
  bool is_mountpoint(const std::string& path) override;
  std::optional<std::uint64_t> file_size(const std::string& path) override;
  SpaceInfo space(const std::string& path) override;

  std::optional<std::string> read_file(const std::string& path, std::uint64_t max_bytes) override;
  void write_atomic(const std::string& path, const std::string& data, unsigned mode) override;
  void append(const std::string& path, const std::string& data) override;
  bool remove(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override;
  bool remove_empty_directory(const std::string& path) override;
  // Like mkdir -p; directories it creates get exactly mode (the umask does not apply).
  void make_directories(const std::string& path, unsigned mode) override;
  void rename_no_replace(const std::string& from, const std::string& to) override;
  void replace_symlink(const std::string& path, const std::string& target) override;
  bool remove_tree(const std::string& path) override;
  std::uint64_t bytes_freed_by_removing(const std::vector<std::string>& roots) override;
  bool clone_file(const std::string& from, const std::string& to) override;
};

}  // namespace ubc
