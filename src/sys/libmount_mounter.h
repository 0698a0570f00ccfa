// SPDX-License-Identifier: MIT
#pragma once

#include <libmount.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "ports/mounter.h"

namespace ubc {

struct MntContextDeleter {
  void operator()(libmnt_context* handle) const noexcept { mnt_free_context(handle); }
};
struct MntTableDeleter {
  void operator()(libmnt_table* handle) const noexcept { mnt_unref_table(handle); }
};
struct MntIterDeleter {
  void operator()(libmnt_iter* handle) const noexcept { mnt_free_iter(handle); }
};
using MntContextPtr = std::unique_ptr<libmnt_context, MntContextDeleter>;
using MntTablePtr = std::unique_ptr<libmnt_table, MntTableDeleter>;
using MntIterPtr = std::unique_ptr<libmnt_iter, MntIterDeleter>;

// One line of the kernel's mount table (/proc/self/mountinfo), unescaped.
struct MountEntry {
  std::string source;   // "/dev/loop0", or "tmpfs" and the like
  std::string target;   // the mount point
  std::string fstype;
  std::string options;  // VFS and filesystem options, comma-separated
  dev_t devno = 0;      // st_dev of files on this mount
};

// Reads /proc/self/mountinfo through libmount, in the kernel's order (parents first).
// Throws std::system_error.
std::vector<MountEntry> read_mount_table();

// Mounts with libmount, as mount(8) does, but only with what the caller gives: fstab and
// utab are neither read nor written, no /sbin/mount.<type> helper runs, and a device that
// cannot be written is an error instead of a silent read-only mount.
class LibmountMounter final : public Mounter {
 public:
  LibmountMounter() = default;
  LibmountMounter(const LibmountMounter&) = delete;
  LibmountMounter& operator=(const LibmountMounter&) = delete;

  std::vector<std::string> mount_points_of(const std::string& devnode) override;
  void mount(const std::string& devnode, const std::string& target, const std::string& fstype,
             const std::string& options) override;
  UnmountResult unmount(const std::string& target, bool lazy) override;
  void sync(const std::string& target) override;
};

}  // namespace ubc
