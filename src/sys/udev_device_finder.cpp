// SPDX-License-Identifier: MIT
#include "sys/udev_device_finder.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "core/text.h"

namespace ubc {

namespace {

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

std::string property(udev_device* device, const char* key) {
  // The returned string belongs to the device; copy it before the device goes away.
  const char* value = udev_device_get_property_value(device, key);
  return value ? value : "";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The size attribute counts 512-byte sectors; 0 means no medium (a detached loop device,
// an empty card reader). udev's database can still hold the old ID_FS_* values for such a
// device until it processes the change event, so the size is the authority.
bool has_medium(udev_device* device) {
  const char* size = udev_device_get_sysattr_value(device, "size");
  return size != nullptr && std::strtoull(size, nullptr, 10) > 0;
}

std::optional<BlockDevice> to_block_device(udev_device* device) {
  const char* devnode = udev_device_get_devnode(device);
  if (devnode == nullptr || !has_medium(device)) return std::nullopt;
  BlockDevice result;
  result.devnode = devnode;
  result.uuid = property(device, "ID_FS_UUID");
  if (result.uuid.empty()) return std::nullopt;
  result.fstype = property(device, "ID_FS_TYPE");
  // ID_FS_LABEL has spaces and other characters replaced with '_'; the _ENC form keeps the
  // label as the owner wrote it (hex-escaped), which is what an admin recognises.
  const std::string encoded = property(device, "ID_FS_LABEL_ENC");
  result.label = encoded.empty() ? decode_udev_label(property(device, "ID_FS_LABEL"))
                                 : decode_udev_label(encoded);
  return result;
}

}  // namespace

std::string decode_udev_label(const std::string& encoded) {
  std::string raw;
  raw.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '\\' && i + 3 < encoded.size() && encoded[i + 1] == 'x') {
      const int high = hex_value(encoded[i + 2]);
      const int low = hex_value(encoded[i + 3]);
      if (high >= 0 && low >= 0) {
        raw += static_cast<char>(high * 16 + low);
        i += 3;
        continue;
      }
    }
    raw += encoded[i];
  }
  std::string safe;
  safe.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x80) {
      safe += (c < 0x20 || c == 0x7f) ? '?' : raw[i];
      ++i;
      continue;
    }
    if (const std::size_t length = utf8_sequence_length(raw, i); length > 0) {
      safe.append(raw, i, length);
      i += length;
    } else {
      safe += '?';
      ++i;
    }
  }
  return safe;
}

UdevDeviceFinder::UdevDeviceFinder() : udev_(udev_new()) {
  if (!udev_) throw_errno(errno ? errno : ENOMEM, "udev_new");
}

std::optional<BlockDevice> UdevDeviceFinder::by_devnode(const std::string& devnode) {
  // /dev/disk/by-uuid/... and similar are symlinks; stat() follows them to the node.
  struct stat st {};
  if (::stat(devnode.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno(errno, "stat '" + devnode + "'");
  }
  if (!S_ISBLK(st.st_mode)) return std::nullopt;
  // Returns a new reference (or NULL with errno set when sysfs has no such device).
  UdevDevicePtr device(udev_device_new_from_devnum(udev_.get(), 'b', st.st_rdev));
  if (!device) {
    if (errno == ENOMEM) throw_errno(ENOMEM, "udev_device_new_from_devnum '" + devnode + "'");
    return std::nullopt;
  }
  return to_block_device(device.get());
}

std::vector<BlockDevice> UdevDeviceFinder::all() {
  UdevEnumeratePtr enumerate(udev_enumerate_new(udev_.get()));
  if (!enumerate) throw_errno(errno ? errno : ENOMEM, "udev_enumerate_new");
  int rc = udev_enumerate_add_match_subsystem(enumerate.get(), "block");
  if (rc < 0) throw_errno(-rc, "udev_enumerate_add_match_subsystem 'block'");
  // Matches against udev's database: only devices udevd has probed carry ID_FS_UUID.
  rc = udev_enumerate_add_match_property(enumerate.get(), "ID_FS_UUID", "*");
  if (rc < 0) throw_errno(-rc, "udev_enumerate_add_match_property 'ID_FS_UUID'");
  rc = udev_enumerate_scan_devices(enumerate.get());
  if (rc < 0) throw_errno(-rc, "udev_enumerate_scan_devices");

  std::vector<BlockDevice> devices;
  // The list and its entries belong to the enumerate object: no unref, and they are only
  // valid while it lives.
  udev_list_entry* entry = nullptr;
  udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate.get())) {
    const char* syspath = udev_list_entry_get_name(entry);
    // A new reference; NULL when the device vanished since the scan.
    UdevDevicePtr device(udev_device_new_from_syspath(udev_.get(), syspath));
    if (!device) continue;
    if (auto block = to_block_device(device.get())) devices.push_back(std::move(*block));
  }
  return devices;
}

}  // namespace ubc
