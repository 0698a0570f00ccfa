// SPDX-License-Identifier: MIT
#pragma once

#include <libudev.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ports/device_finder.h"

namespace ubc {

// Every libudev handle is reference counted; these owners drop the one reference they hold.
struct UdevDeleter {
  void operator()(udev* handle) const noexcept { udev_unref(handle); }
};
struct UdevDeviceDeleter {
  void operator()(udev_device* handle) const noexcept { udev_device_unref(handle); }
};
struct UdevEnumerateDeleter {
  void operator()(udev_enumerate* handle) const noexcept { udev_enumerate_unref(handle); }
};
using UdevPtr = std::unique_ptr<udev, UdevDeleter>;
using UdevDevicePtr = std::unique_ptr<udev_device, UdevDeviceDeleter>;
using UdevEnumeratePtr = std::unique_ptr<udev_enumerate, UdevEnumerateDeleter>;

// Reads block devices and their filesystem properties (ID_FS_UUID, ID_FS_LABEL, ID_FS_TYPE)
// from udev's database, which udevd fills with its blkid builtin. A device counts only when
// it has a medium (size > 0) and a filesystem UUID: a detached loop device or an empty card
// reader is "no device" to the job.
class UdevDeviceFinder final : public DeviceFinder {
 public:
  // Throws std::system_error when libudev cannot be initialised.
  UdevDeviceFinder();
  UdevDeviceFinder(const UdevDeviceFinder&) = delete;
  UdevDeviceFinder& operator=(const UdevDeviceFinder&) = delete;

  std::optional<BlockDevice> by_devnode(const std::string& devnode) override;
  std::vector<BlockDevice> all() override;

 private:
  UdevPtr udev_;
};

// Turns udev's ID_FS_LABEL_ENC ("My\x20Disk") back into the label's bytes, then makes it
// safe to log: control characters and bytes that are not valid UTF-8 become '?'.
std::string decode_udev_label(const std::string& encoded);

}  // namespace ubc
