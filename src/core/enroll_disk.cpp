// SPDX-License-Identifier: MIT
#include "core/enroll_disk.h"

#include "core/disk_state.h"
#include "core/encrypted_disk.h"
#include "core/enrollment.h"
#include "core/job.h"
#include "core/text.h"

#include <optional>

namespace ubc {

namespace {

EnrollResult refused(std::string message, std::string advice) {
  EnrollResult r;
  r.message = std::move(message);
  r.advice = std::move(advice);
  return r;
}

// Unmounts on the way out, also when writing the secret or the record throws.
class MountGuard {
 public:
  MountGuard(Mounter& mounter, std::string target, EnrollResult& result)
      : mounter_(mounter), target_(std::move(target)), result_(result) {}
  ~MountGuard() {
    try {
      if (mounter_.unmount(target_, false) == UnmountResult::busy) {
        mounter_.sync(target_);
        result_.unmounted = false;
      }
    } catch (...) {
      result_.unmounted = false;
    }
  }
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;

 private:
  Mounter& mounter_;
  std::string target_;
  EnrollResult& result_;
};

// Closes an opened container on the way out, after the MountGuard declared later has
// unmounted what is inside it.
class ContainerGuard {
 public:
  ContainerGuard(EncryptedVolumes& volumes, std::string name) : volumes_(volumes), name_(std::move(name)) {}
  ~ContainerGuard() {
    try {
      (void)volumes_.close(name_);  // a mapping still held is removed by the kernel when released
    } catch (...) {
    }
  }
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;

 private:
  EncryptedVolumes& volumes_;
  std::string name_;
};

}  // namespace

EnrollResult enroll_disk(const Config& config, EnrollPorts& ports, const std::string& devnode) {
  const auto disk = ports.devices.by_devnode(devnode);
  if (!disk)
    return refused("Device '" + devnode + "' does not exist or carries no filesystem",
                   "Check the device name with 'lsblk -f'");
  if (!config.find_disk(disk->uuid))
    return refused("Disk " + devnode + " (filesystem UUID " + disk->uuid + ") is not whitelisted",
                   "Add its UUID to 'filesystem-ids-and-notification-mail-addresses' in '" + config.path +
                       "' first; only whitelisted disks are enrolled");
  const bool encrypted = disk->fstype == kLuksFsType;
  if (!encrypted && !kernel_fstype(disk->fstype))
    return refused("The disk's filesystem '" + disk->fstype + "' is not supported",
                   "Format the disk as ext4 (or xfs, btrfs, exfat, vfat, ntfs) and whitelist its new UUID");
  if (const auto at = ports.mounter.mount_points_of(disk->devnode); !at.empty())
    return refused("Disk " + devnode + " is mounted at '" + at.front() + "'",
                   "Unmount it first (a copy may be running: see 'usb-backup-copier status')");
  const std::string& target = config.backup_destination;
  if (ports.fs.kind(target) != PathKind::directory || ports.fs.is_mountpoint(target) ||
      !ports.fs.list_entries(target).empty())
    return refused("The mount point '" + target + "' is not an empty directory, or something is mounted there",
                   "Wait for a running copy to finish ('usb-backup-copier status'), or check 'backup-destination'");

  BlockDevice inner = *disk;
  std::optional<ContainerGuard> container;
  if (encrypted) {
    const auto name = mapping_name(disk->uuid);
    const auto key = key_file_path(config, disk->uuid);
    if (!name || !key)
      return refused("The encrypted disk's UUID " + ubc::quoted(disk->uuid) + " cannot name a key file",
                     "Prepare the disk again with 'usb-backup-copier prepare-disk --encrypt'");
    if (ports.volumes.is_open(*name))
      return refused("The encrypted disk " + devnode + " is open as /dev/mapper/" + *name,
                     "Wait for a running copy to finish ('usb-backup-copier status'), or close it with "
                     "'cryptsetup close " + *name + "'");
    OpenedVolume volume;
    try {
      volume = ports.volumes.open(disk->devnode, *name, *key);
    } catch (const VolumeError& e) {
      return refused("Could not open the encrypted disk " + devnode + ": " + e.what(),
                     "Put the disk's key file at '" + *key + "', owned by root with mode 0600");
    }
    container.emplace(ports.volumes, *name);
    inner.devnode = volume.devnode;
    inner.fstype = volume.fstype;
    if (inner.label.empty()) inner.label = volume.label;
  }
  const auto fstype = kernel_fstype(inner.fstype);
  if (!fstype)
    return refused("The encrypted disk holds no supported filesystem ('" + inner.fstype + "')",
                   "Prepare the disk again with 'usb-backup-copier prepare-disk --encrypt'");

  EnrollResult result;
  ports.mounter.mount(inner.devnode, target, *fstype, mount_options_for(*fstype));
  {
    MountGuard guard(ports.mounter, target, result);
    ports.fs.make_directories(target + "/" + kDiskStateDir, 0755);
    const std::string secret = ports.store.new_secret();
    ports.fs.write_atomic(target + "/" + kEnrollmentFile, secret + "\n", 0600);
    Enrollment e;
    e.uuid = lower(disk->uuid);
    e.label = inner.label;
    e.enrolled_at = ports.clock.now_unix();
    e.secret_sha256 = ports.store.digest(secret);
    ports.store.save(e);
  }
  result.ok = true;
  result.message = "Enrolled disk " + claimed_disk_name(inner) + " on " + devnode;
  if (!result.unmounted)
    result.advice = "The disk could not be unmounted from '" + target + "' (busy); its data was synced. Run 'umount " +
                    target + "' before unplugging it";
  return result;
}

}  // namespace ubc
