// SPDX-License-Identifier: MIT
// Where an encrypted rotation disk's key lives and what its mapping is called.
#pragma once

#include <optional>
#include <string>

#include "core/config.h"

namespace ubc {

// udev's ID_FS_TYPE of a LUKS container.
inline constexpr const char* kLuksFsType = "crypto_LUKS";

// The keys directory beside the configuration file: /etc/usb-backup-copier/keys.
std::string key_directory(const Config& config);
// <keys>/<luks-uuid>.key; nullopt for a UUID that cannot name a file.
std::optional<std::string> key_file_path(const Config& config, const std::string& luks_uuid);
// The device-mapper name of the disk's opened container, derived from its UUID so that a
// mapping left by a killed run is found again; nullopt as above.
std::optional<std::string> mapping_name(const std::string& luks_uuid);

}  // namespace ubc
