// SPDX-License-Identifier: MIT
#include "sys/libmount_mounter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <system_error>

#include "sys/unique_fd.h"

namespace ubc {

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// libmount returns 0 or a negative errno for its setters.
void check(int rc, const std::string& what) {
  if (rc != 0) throw_errno(rc < 0 ? -rc : EINVAL, what);
}

std::string text(const char* value) { return value ? value : ""; }

// The canonical path when it exists; the path as given otherwise (a device that is gone
// still appears in the mount table under its old name).
std::string canonical_or_same(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
  return path;
}

}  // namespace

std::vector<MountEntry> read_mount_table() {
  MntTablePtr table(mnt_new_table());
  if (!table) throw_errno(ENOMEM, "mnt_new_table");
  // The kernel's own table, not the merged mtab view: utab entries are not mounts.
  const int rc = mnt_table_parse_file(table.get(), "/proc/self/mountinfo");
  if (rc != 0) throw_errno(rc < 0 ? -rc : EINVAL, "mnt_table_parse_file '/proc/self/mountinfo'");
  MntIterPtr iter(mnt_new_iter(MNT_ITER_FORWARD));
  if (!iter) throw_errno(ENOMEM, "mnt_new_iter");

  std::vector<MountEntry> entries;
  // The libmnt_fs entries belong to the table (borrowed, no unref).
  libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(table.get(), iter.get(), &fs) == 0) {
    MountEntry entry;
    entry.source = text(mnt_fs_get_source(fs));
    entry.target = text(mnt_fs_get_target(fs));
    entry.fstype = text(mnt_fs_get_fstype(fs));
    entry.options = text(mnt_fs_get_options(fs));
    entry.devno = mnt_fs_get_devno(fs);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<std::string> LibmountMounter::mount_points_of(const std::string& devnode) {
  // Compare device numbers: the table may name the device differently (a by-uuid link,
  // /dev/mapper/x vs /dev/dm-0). btrfs reports an anonymous device number instead of the
  // disk's, so the canonical source path is compared as well.
  dev_t rdev = 0;
  struct stat st {};
  if (::stat(devnode.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) rdev = st.st_rdev;
  const std::string canonical = canonical_or_same(devnode);

  std::vector<std::string> targets;
  for (const auto& entry : read_mount_table()) {
    const bool same_devno = rdev != 0 && entry.devno == rdev;
    const bool same_source =
        !entry.source.empty() && entry.source[0] == '/' && canonical_or_same(entry.source) == canonical;
    if (same_devno || same_source) targets.push_back(entry.target);
  }
  return targets;
}

void LibmountMounter::mount(const std::string& devnode, const std::string& target,
                            const std::string& fstype, const std::string& options) {
  MntContextPtr cxt(mnt_new_context());
  if (!cxt) throw_errno(ENOMEM, "mnt_new_context");
  // Only what the caller asked for: an fstab line for the disk must not add options.
  check(mnt_context_set_optsmode(cxt.get(), MNT_OMODE_NOTAB), "mnt_context_set_optsmode");
  // Nothing to clean up in /run/mount/utab later; unmount() is a plain umount2().
  check(mnt_context_disable_mtab(cxt.get(), 1), "mnt_context_disable_mtab");
  // A /sbin/mount.<type> helper (a FUSE driver, say) would take other options and behave
  // differently from the kernel driver this was tested with.
  check(mnt_context_disable_helpers(cxt.get(), 1), "mnt_context_disable_helpers");
  // mount(8) falls back to read-only for a write-protected device; a backup copy cannot.
  check(mnt_context_enable_rwonly_mount(cxt.get(), 1), "mnt_context_enable_rwonly_mount");
  check(mnt_context_set_source(cxt.get(), devnode.c_str()), "mnt_context_set_source '" + devnode + "'");
  check(mnt_context_set_target(cxt.get(), target.c_str()), "mnt_context_set_target '" + target + "'");
  check(mnt_context_set_fstype(cxt.get(), fstype.c_str()), "mnt_context_set_fstype '" + fstype + "'");
  check(mnt_context_set_options(cxt.get(), options.c_str()), "mnt_context_set_options '" + options + "'");

  const int rc = mnt_context_mount(cxt.get());
  // Success needs both: libmount's own steps (rc) and the mount(2) call (status 1).
  if (rc == 0 && mnt_context_get_status(cxt.get()) == 1) return;

  // The same explanation mount(8) prints ("wrong fs type, bad option, bad superblock on
  // /dev/sdb1, ..."), built from the syscall's errno and what libmount checked.
  std::array<char, 1024> message{};
  (void)mnt_context_get_excode(cxt.get(), rc, message.data(), message.size());
  std::string what = "mounting '" + devnode + "' (" + fstype + ") at '" + target + "' failed: ";
  what += message[0] != '\0' ? message.data() : "unknown libmount error " + std::to_string(rc);
  throw MountError(what);
}

UnmountResult LibmountMounter::unmount(const std::string& target, bool lazy) {
  if (::umount2(target.c_str(), lazy ? MNT_DETACH : 0) == 0) return UnmountResult::done;
  switch (errno) {
    case EBUSY:
      return UnmountResult::busy;
    case EINVAL:  // target is not a mount point
    case ENOENT:  // target does not exist
      return UnmountResult::not_mounted;
    default:
      throw_errno(errno, "umount2 '" + target + "'");
  }
}

void LibmountMounter::sync(const std::string& target) {
  UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno(errno, "open '" + target + "'");
  if (::syncfs(fd.get()) != 0) throw_errno(errno, "syncfs '" + target + "'");
}

}  // namespace ubc
