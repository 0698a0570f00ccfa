// SPDX-License-Identifier: MIT
#include "sys/block_disk.h"

#include <fcntl.h>
#include <libfdisk.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <system_error>

#include "core/text.h"
#include "sys/dir.h"
#include "sys/fd_io.h"
#include "sys/libmount_mounter.h"

namespace ubc {

namespace {

std::string canonical_or_empty(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : std::string();
}

// A small sysfs attribute, trimmed; empty when the attribute does not exist.
std::string sysfs_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  return std::string(trim(read_all(fd.get(), path, 65536)));
}

bool sysfs_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::vector<std::string> entries_of(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return {};
  return directory_names(fd.get(), dir);
}

std::string sysfs_dir_of(dev_t rdev) {
  return canonical_or_empty("/sys/dev/block/" + std::to_string(major(rdev)) + ":" +
                            std::to_string(minor(rdev)));
}

struct FdiskContextDeleter {
  void operator()(fdisk_context* cxt) const noexcept { fdisk_unref_context(cxt); }
};
struct FdiskPartitionDeleter {
  void operator()(fdisk_partition* pa) const noexcept { fdisk_unref_partition(pa); }
};

// libfdisk returns 0 or a negative errno.
void check(int rc, const std::string& what) {
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), what);
}

}  // namespace

DiskFacts read_disk_facts(const std::string& given) {
  DiskFacts disk;
  disk.given = given;
  disk.devnode = canonical_or_empty(given);
  struct stat st {};
  if (disk.devnode.empty() || ::stat(disk.devnode.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
    return disk;
  }
  const std::string sys = sysfs_dir_of(st.st_rdev);
  if (sys.empty()) throw errno_error("realpath", "/sys/dev/block of " + disk.devnode);
  disk.is_block_device = true;
  disk.name = base_name(sys);
  disk.is_partition = sysfs_exists(sys + "/partition");
  if (disk.is_partition) {
    disk.whole_disk = "/dev/" + base_name(sys.substr(0, sys.rfind('/')));
    return disk;
  }
  disk.size_bytes = std::strtoull(sysfs_text(sys + "/size").c_str(), nullptr, 10) * 512;
  disk.model = sysfs_text(sys + "/device/vendor");
  const std::string model = sysfs_text(sys + "/device/model");
  if (!model.empty()) disk.model += (disk.model.empty() ? "" : " ") + model;
  // A USB disk often reports itself fixed; its place below a USB controller tells.
  disk.removable = sysfs_text(sys + "/removable") == "1" || sys.find("/usb") != std::string::npos;
  disk.read_only = sysfs_text(sys + "/ro") == "1";
  disk.holders = entries_of(sys + "/holders");
  for (const std::string& entry : entries_of(sys)) {
    if (!sysfs_exists(sys + "/" + entry + "/partition")) continue;
    disk.partitions.push_back("/dev/" + entry);
    for (const std::string& holder : entries_of(sys + "/" + entry + "/holders"))
      disk.holders.push_back(holder);
  }
  std::sort(disk.partitions.begin(), disk.partitions.end());
  return disk;
}

std::vector<DiskUse> read_disk_uses(const DiskFacts& disk, const std::string& backup_source) {
  std::vector<std::string> nodes = disk.partitions;
  nodes.push_back(disk.devnode);
  std::vector<dev_t> numbers;
  for (const std::string& node : nodes) {
    struct stat st {};
    if (::stat(node.c_str(), &st) == 0) numbers.push_back(st.st_rdev);
  }
  // The disk's node that a mount or swap entry names, or "".
  const auto ours = [&](const std::string& source, dev_t devno) -> std::string {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      struct stat st {};
      const bool same_number = ::stat(nodes[i].c_str(), &st) == 0 && st.st_rdev == devno;
      if (same_number || (!source.empty() && canonical_or_empty(source) == nodes[i]))
        return nodes[i];
    }
    return {};
  };

  std::vector<DiskUse> uses;
  const std::vector<MountEntry> table = read_mount_table();
  // The mount a path lives on: the last entry with the longest matching mount point.
  const auto holding = [&](const std::string& path) -> const MountEntry* {
    const MountEntry* best = nullptr;
    for (const MountEntry& entry : table) {
      const std::string& target = entry.target;
      const bool inside = target == "/" || path == target ||
                          (path.rfind(target, 0) == 0 && path.size() > target.size() &&
                           path[target.size()] == '/');
      if (inside && (best == nullptr || target.size() >= best->target.size())) best = &entry;
    }
    return best;
  };
  if (const MountEntry* root = holding("/")) {
    if (const std::string node = ours(root->source, root->devno); !node.empty())
      uses.push_back(DiskUse{DiskUse::Kind::root, node, "/"});
  }
  const std::string source = canonical_or_empty(backup_source);
  if (const MountEntry* entry = source.empty() ? nullptr : holding(source)) {
    if (const std::string node = ours(entry->source, entry->devno); !node.empty())
      uses.push_back(DiskUse{DiskUse::Kind::source, node, backup_source});
  }
  // /proc/swaps: a header line, then one area per line, its path first.
  const std::string swaps = sysfs_text("/proc/swaps");
  std::size_t pos = swaps.find('\n');
  while (pos != std::string::npos && pos + 1 < swaps.size()) {
    const std::size_t end = swaps.find('\n', pos + 1);
    const std::string line = swaps.substr(pos + 1, end == std::string::npos ? end : end - pos - 1);
    const std::string area = line.substr(0, line.find_first_of(" \t"));
    if (const std::string node = ours(area, 0); !node.empty())
      uses.push_back(DiskUse{DiskUse::Kind::swap, node, area});
    pos = end;
  }
  for (const MountEntry& entry : table) {
    if (const std::string node = ours(entry.source, entry.devno); !node.empty())
      uses.push_back(DiskUse{DiskUse::Kind::mounted, node, entry.target});
  }
  return uses;
}

void write_single_partition_gpt(const std::string& devnode, const std::string& name) {
  std::unique_ptr<fdisk_context, FdiskContextDeleter> cxt(fdisk_new_context());
  if (!cxt) throw std::system_error(ENOMEM, std::generic_category(), "fdisk_new_context");
  check(fdisk_assign_device(cxt.get(), devnode.c_str(), 0), "fdisk_assign_device '" + devnode + "'");
  // Old signatures (a filesystem on the whole disk, an old table) go with the new label.
  check(fdisk_enable_wipe(cxt.get(), 1), "fdisk_enable_wipe");
  check(fdisk_create_disklabel(cxt.get(), "gpt"), "fdisk_create_disklabel gpt");
  std::unique_ptr<fdisk_partition, FdiskPartitionDeleter> pa(fdisk_new_partition());
  if (!pa) throw std::system_error(ENOMEM, std::generic_category(), "fdisk_new_partition");
  check(fdisk_partition_partno_follow_default(pa.get(), 1), "fdisk_partition_partno_follow_default");
  check(fdisk_partition_start_follow_default(pa.get(), 1), "fdisk_partition_start_follow_default");
  check(fdisk_partition_end_follow_default(pa.get(), 1), "fdisk_partition_end_follow_default");
  check(fdisk_partition_set_name(pa.get(), name.c_str()), "fdisk_partition_set_name");
  std::size_t partno = 0;
  check(fdisk_add_partition(cxt.get(), pa.get(), &partno), "fdisk_add_partition");
  check(fdisk_write_disklabel(cxt.get()), "fdisk_write_disklabel '" + devnode + "'");
  check(fdisk_reread_partition_table(cxt.get()), "fdisk_reread_partition_table '" + devnode + "'");
  check(fdisk_deassign_device(cxt.get(), 0), "fdisk_deassign_device '" + devnode + "'");
}

TemporaryMount::TemporaryMount(const std::string& devnode, const std::string& fstype) {
  std::string dir = "/run/usb-backup-copier-prepare.XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) throw errno_error("mkdtemp", dir);
  try {
    LibmountMounter().mount(devnode, dir, fstype, "nosuid,nodev,noexec,nosymfollow");
  } catch (...) {
    (void)::rmdir(dir.c_str());
    throw;
  }
  path_ = dir;
}

TemporaryMount::~TemporaryMount() {
  // Busy only if someone entered the directory meanwhile: detach, the disk is ours now.
  if (::umount2(path_.c_str(), 0) != 0) (void)::umount2(path_.c_str(), MNT_DETACH);
  (void)::rmdir(path_.c_str());
}

}  // namespace ubc
