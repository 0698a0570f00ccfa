// SPDX-License-Identifier: MIT
// `usb-backup-copier enroll --device DEV`: mark a whitelisted disk as ours (DESIGN.md §10).
#pragma once

#include <string>

#include "core/config.h"
#include "ports/clock.h"
#include "ports/device_finder.h"
#include "ports/encrypted_volumes.h"
#include "ports/enrollment_store.h"
#include "ports/file_system.h"
#include "ports/mounter.h"

namespace ubc {

struct EnrollPorts {
  DeviceFinder& devices;
  Mounter& mounter;
  FileSystem& fs;
  EnrollmentStore& store;
  Clock& clock;
  EncryptedVolumes& volumes;
};

struct EnrollResult {
  bool ok = false;
  std::string message;  // what happened, for the admin (one line)
  std::string advice;   // what to do, when it failed
  bool unmounted = true;  // false: the disk stayed mounted (busy); message says so
};

// Mounts the disk at backup-destination (an encrypted disk: opens its LUKS container with its
// key file first and closes it afterwards), writes a fresh secret into kEnrollmentFile (0600,
// atomically, fsynced), stores its digest with the UUID, the label and the time, and
// unmounts. A disk enrolled before gets a new secret: the old one stops passing.
// Refuses a disk that is not whitelisted, is mounted (an encrypted one: is open), whose
// container does not open with its key file, or when the mount point is busy.
// Store and disk errors throw std::system_error after the disk has been unmounted.
EnrollResult enroll_disk(const Config& config, EnrollPorts& ports, const std::string& devnode);

}  // namespace ubc
