// SPDX-License-Identifier: MIT
// An encrypted rotation disk: its LUKS container is opened with the disk's key file before
// the mount, and closed after the unmount on every way out (the undo stack), so the
// unencrypted view of the disk never outlives the run.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/encrypted_disk.h"
#include "core/job.h"
#include "core/text.h"

namespace ubc {

std::optional<Job::State> Job::open_encrypted() {
  const auto name = mapping_name(disk_.uuid);
  const auto key = key_file_path(config_, disk_.uuid);
  if (!name || !key)
    return stop(Outcome::failed, "The encrypted disk's UUID " + ubc::quoted(disk_.uuid) + " cannot name a key file",
                "Prepare the disk again with 'usb-backup-copier prepare-disk --encrypt'");
  const std::string mapped = "/dev/mapper/" + *name;
  if (ports_.volumes.is_open(*name)) {
    // A run that was killed outright left it: nothing else opens our mappings.
    if (const auto at = ports_.mounter.mount_points_of(mapped); !at.empty())
      return stop(Outcome::failed, "The encrypted disk is already open and mounted at '" + at.front() + "'",
                  "Unmount it and close it ('cryptsetup close " + *name + "'), then plug the disk in again");
    try {
      if (ports_.volumes.close(*name) != CloseResult::closed)
        return stop(Outcome::failed, "The mapping '" + mapped + "' left by an earlier run is still in use",
                    "Close it ('cryptsetup close " + *name + "') or restart the server, then plug the disk in again");
    } catch (const std::system_error& e) {
      return stop(Outcome::failed, "Could not close the mapping '" + mapped + "' left by an earlier run: " + e.what(),
                  "Close it ('cryptsetup close " + *name + "'), then plug the disk in again");
    }
    warn("Closed the mapping '" + mapped + "' that an earlier run left open");
  }
  OpenedVolume volume;
  try {
    volume = ports_.volumes.open(disk_.devnode, *name, *key);
  } catch (const std::exception& e) {
    return stop(Outcome::failed, "Could not open the encrypted disk " + disk_.devnode + ": " + e.what(),
                "Put the disk's key file at '" + *key + "', owned by root with mode 0600 ('chmod 600 " + *key +
                    "'), or prepare the disk again with 'usb-backup-copier prepare-disk --encrypt'");
  }
  undo_.push("close the encrypted disk", [this, name = *name, mapped] {
    switch (ports_.volumes.close(name)) {
      case CloseResult::closed:
        log_->info("Closed the encrypted disk's mapping {}", mapped);
        break;
      case CloseResult::deferred:
        warn("The mapping " + mapped + " was still held; the kernel removes it as soon as it is released");
        break;
      case CloseResult::not_open:
        break;
    }
  });
  log_->info("Opened the encrypted disk {} as {} ({})", disk_.devnode, volume.devnode,
             volume.fstype.empty() ? "no filesystem found" : volume.fstype);
  disk_.devnode = volume.devnode;
  disk_.fstype = volume.fstype;
  // The container's header label names the disk; one made without a label is named by the
  // filesystem inside (mails, status and history show it).
  if (disk_.label.empty()) disk_.label = report_.disk.label = volume.label;
  return std::nullopt;
}

}  // namespace ubc
