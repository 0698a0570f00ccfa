// SPDX-License-Identifier: MIT
#include "core/encrypted_disk.h"

#include "core/text.h"

namespace ubc {

std::string key_directory(const Config& config) {
  const std::size_t slash = config.path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "" : config.path.substr(0, slash);
  return dir + "/keys";
}

std::optional<std::string> key_file_path(const Config& config, const std::string& luks_uuid) {
  const auto stem = uuid_file_stem(luks_uuid);
  if (!stem) return std::nullopt;
  return key_directory(config) + "/" + *stem + ".key";
}

std::optional<std::string> mapping_name(const std::string& luks_uuid) {
  const auto stem = uuid_file_stem(luks_uuid);
  if (!stem) return std::nullopt;
  return "usb-backup-copier-" + *stem;
}

}  // namespace ubc
