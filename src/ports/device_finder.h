// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ubc {

struct BlockDevice {
  std::string devnode;  // /dev/sdb1
  std::string uuid;     // filesystem UUID as udev reports it
  std::string label;    // filesystem label, may be empty; untrusted data
  std::string fstype;   // ext4, xfs, btrfs, exfat, vfat, ntfs3, ...
};

// Block devices and their filesystems, as udev knows them.
class DeviceFinder {
 public:
  virtual ~DeviceFinder() = default;
  // The device behind a node like /dev/sdb1 (symlinks resolved); nullopt if there is none.
  virtual std::optional<BlockDevice> by_devnode(const std::string& devnode) = 0;
  // Every block device that carries a filesystem UUID, in udev's enumeration order.
  virtual std::vector<BlockDevice> all() = 0;
};

}  // namespace ubc
