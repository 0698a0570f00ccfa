// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ubc {

struct SpaceInfo {
  std::uint64_t free_bytes = 0;   // available to an unprivileged writer... and root
  std::uint64_t total_bytes = 0;
};

enum class PathKind { missing, directory, file, other };

// File system questions and small files (status, state.json, run logs). Paths are absolute.
// Files are opened with O_NOFOLLOW | O_CLOEXEC. Errors throw std::system_error.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual PathKind kind(const std::string& path) = 0;
  // The directory can be opened and listed.
  virtual bool readable_directory(const std::string& path) = 0;
  // Number of entries directly in the directory ("." and ".." not counted).
  virtual std::uint64_t count_entries(const std::string& path) = 0;
  // Regular files, symlinks and others below path, recursively, not crossing mounts.
  virtual std::uint64_t count_files_recursive(const std::string& path) = 0;
  virtual bool is_mountpoint(const std::string& path) = 0;
  // Size of a regular file (not following a symlink); nullopt for anything else or nothing.
  virtual std::optional<std::uint64_t> file_size(const std::string& path) = 0;
  virtual SpaceInfo space(const std::string& path) = 0;

  virtual std::optional<std::string> read_file(const std::string& path) = 0;
  // Writes path.tmp, fsyncs it and renames it over path.
  virtual void write_atomic(const std::string& path, const std::string& data, unsigned mode) = 0;
  virtual void append(const std::string& path, const std::string& data) = 0;
  // False if it was not there.
  virtual bool remove(const std::string& path) = 0;
  virtual void make_directories(const std::string& path, unsigned mode) = 0;
};

}  // namespace ubc
