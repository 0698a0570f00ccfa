// SPDX-License-Identifier: MIT
#pragma once

#include <unistd.h>

#include <utility>

namespace ubc {

// Owns one file descriptor and closes it on destruction. Non-copyable: two owners of one fd
// would close it twice, and the second close could hit an unrelated fd reusing the number.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing.
  int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes ownership of fd. close() errors are dropped on
  // purpose: on Linux the fd is released even when close() fails, and retrying would be
  // wrong. Code that must know whether written data reached the disk calls fsync() first.
  void reset(int fd = -1) noexcept {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) (void)::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace ubc
