// SPDX-License-Identifier: MIT
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ubc {

// A mount that failed, with the mount library's own words in what().
class MountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class UnmountResult { done, busy, not_mounted };

class Mounter {
 public:
  virtual ~Mounter() = default;
  // Where the device is mounted now (empty: nowhere), from the kernel's mount table.
  virtual std::vector<std::string> mount_points_of(const std::string& devnode) = 0;
  // Mounts devnode at target with the given filesystem type and comma-separated options.
  // Throws MountError.
  virtual void mount(const std::string& devnode, const std::string& target,
                     const std::string& fstype, const std::string& options) = 0;
  // lazy: detach now, clean up when no longer busy (the device is gone anyway).
  virtual UnmountResult unmount(const std::string& target, bool lazy) = 0;
  // Flushes the filesystem mounted at target (used when unmounting failed).
  virtual void sync(const std::string& target) = 0;
};

}  // namespace ubc
