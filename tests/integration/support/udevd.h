// SPDX-License-Identifier: MIT
// udevd for integration tests: libudev reads ID_FS_UUID and friends from udevd's database,
// which only a running udevd fills. Root only.
#pragma once

#include <sys/types.h>

#include <string>

namespace ubc::test {

// Makes sure a udevd is running and its database knows every block device. Starts
// /lib/systemd/systemd-udevd as a child when none answers, and stops that one (by its pid)
// on destruction; a udevd that was already running is left alone.
class ScopedUdevd {
 public:
  // Throws std::runtime_error when udevd cannot be started or does not answer.
  ScopedUdevd();
  ~ScopedUdevd();
  ScopedUdevd(const ScopedUdevd&) = delete;
  ScopedUdevd& operator=(const ScopedUdevd&) = delete;

  bool started_here() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Waits until udevd has handled every queued event.
  static void settle();
  // Makes udevd probe devnode again (a "change" event) and waits for it: needed after a
  // filesystem was created or a loop device attached, before libudev can see ID_FS_UUID.
  static void refresh(const std::string& devnode);

 private:
  void stop();

  pid_t pid_ = -1;  // our child, until reaped
};

// The udevd shared by every test in this process: started on first use, stopped after the
// last test (by a gtest Environment) or at exit.
ScopedUdevd& shared_udevd();

}  // namespace ubc::test
