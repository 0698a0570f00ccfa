// SPDX-License-Identifier: MIT
// Reading a directory: the one owner of a DIR* and the one readdir loop.
#pragma once

#include <dirent.h>

#include <memory>
#include <string>
#include <vector>

#include "sys/unique_fd.h"

namespace ubc {

class DirStream {
 public:
  // Reads the directory open as dir_fd through a duplicate: the caller keeps its fd.
  // Throws std::system_error naming `path`.
  DirStream(int dir_fd, std::string path);
  // Takes fd over (closed also when this throws).
  DirStream(UniqueFd fd, std::string path);

  // The next entry, "." and ".." skipped; nullptr at the end. readdir() returns NULL both
  // at the end and on an error; only errno tells them apart, and an error throws.
  const dirent* next();
  // The fd the stream reads, for *at() calls on its entries.
  int fd() const { return ::dirfd(dir_.get()); }

 private:
  struct Closer {
    void operator()(DIR* dir) const noexcept { (void)::closedir(dir); }
  };
  std::unique_ptr<DIR, Closer> dir_;
  std::string path_;
};

// Every name in the directory open as dir_fd, "." and ".." left out, in readdir order.
std::vector<std::string> directory_names(int dir_fd, const std::string& path);

}  // namespace ubc
