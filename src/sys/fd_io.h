// SPDX-License-Identifier: MIT
// Small file-descriptor chores shared by the adapters, each error a std::system_error that
// names the call and the path.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace ubc {

// "call 'path': <strerror>", from errno unless given.
std::system_error errno_error(const std::string& call, const std::string& path, int error = errno);

// read() until end of file (EINTR retried); more than max_bytes throws EFBIG, so that a
// file growing while it is read cannot exhaust memory either.
std::string read_all(int fd, const std::string& path, std::uint64_t max_bytes);

// Throws EINVAL unless fd is a regular file: what is opened on a disk may be a FIFO, a
// device node or a directory put there in place of our file.
void require_regular_file(int fd, const std::string& path);

// write() until all of data is written (EINTR retried, short writes continued).
void write_all(int fd, std::string_view data, const std::string& path);


// Writes name in the directory dir_fd through a hidden temporary file (".name.tmp", O_EXCL,
// O_NOFOLLOW, mode), fsynced before the rename, so readers see the old file or the new one;
// the temporary file is removed on any failure. dir_path names the directory in errors.
// The directory itself is not synced.
void write_file_atomic_at(int dir_fd, const std::string& dir_path, const std::string& name,
                          std::string_view data, unsigned mode);

// Replaces path with data: writes tmp (whatever was there removed first, then created with
// O_EXCL | O_NOFOLLOW, mode set explicitly), fsyncs and closes
// it, renames it over path; tmp is removed on any failure. sync_directory also makes the
// rename itself durable (files on the backup disk). Readers see the old or the new file,
// never a half-written one.
// owner, when given, is set on tmp before it is written (a file others read by group).
struct FileOwner {
  unsigned uid = 0;
  unsigned gid = 0;
};
void write_file_atomic(const std::string& path, const std::string& tmp, std::string_view data,
                       unsigned mode, bool sync_directory, const FileOwner* owner = nullptr);

// Replaces an existing file (an admin's config.ini) keeping its mode and owner, through
// path + ".tmp" as write_file_atomic does. Throws std::system_error.
void rewrite_file(const std::string& path, std::string_view data);

// fsyncs the directory that holds path, so that a rename or unlink in it is durable.
void sync_parent_directory(const std::string& path);

}  // namespace ubc
