// SPDX-License-Identifier: MIT
#pragma once

#include <stdexcept>
#include <string>

namespace ubc {

// Why a container could not be opened, in words for the admin: a key file that is missing
// or not root-only, a device that is no LUKS container, a key that opens no keyslot.
class VolumeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The filesystem inside an opened container.
struct OpenedVolume {
  std::string devnode;  // /dev/mapper/<name>
  std::string fstype;   // as udev names types: ext4, xfs, btrfs, ...; empty if none found
  std::string label;    // the inner filesystem's label; untrusted data
};

enum class CloseResult { closed, deferred, not_open };

// LUKS containers on the rotation disks, opened with a key file.
class EncryptedVolumes {
 public:
  virtual ~EncryptedVolumes() = default;
  // Opens the container on devnode as the mapping `name` with the key in key_file, which
  // must be a regular file owned by root and readable by nobody else. Throws VolumeError.
  virtual OpenedVolume open(const std::string& devnode, const std::string& name,
                            const std::string& key_file) = 0;
  virtual bool is_open(const std::string& name) = 0;
  // Removes the mapping; when something still holds it (a disk pulled out under a mount),
  // the kernel removes it as soon as that lets go (deferred). Throws std::system_error.
  virtual CloseResult close(const std::string& name) = 0;
};

}  // namespace ubc
