// SPDX-License-Identifier: MIT
#include "sys/dir.h"

#include <errno.h>
#include <fcntl.h>

#include <cstring>
#include <utility>

#include "sys/fd_io.h"

namespace ubc {

namespace {

UniqueFd duplicate(int fd, const std::string& path) {
  UniqueFd dup(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) throw errno_error("fcntl(F_DUPFD_CLOEXEC)", path);
  return dup;
}

}  // namespace

DirStream::DirStream(int dir_fd, std::string path) : DirStream(duplicate(dir_fd, path), path) {}

DirStream::DirStream(UniqueFd fd, std::string path) : path_(std::move(path)) {
  // fdopendir() takes the fd over only when it succeeds.
  dir_.reset(::fdopendir(fd.get()));
  if (!dir_) throw errno_error("fdopendir", path_);
  (void)fd.release();
}

const dirent* DirStream::next() {
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir_.get());
    if (entry == nullptr) {
      if (errno != 0) throw errno_error("readdir", path_);
      return nullptr;
    }
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) return entry;
  }
}

std::vector<std::string> directory_names(int dir_fd, const std::string& path) {
  DirStream dir(dir_fd, path);
  std::vector<std::string> names;
  while (const dirent* entry = dir.next()) names.emplace_back(entry->d_name);
  return names;
}

}  // namespace ubc
