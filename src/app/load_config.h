// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

#include "core/config.h"

namespace ubc {

// Reads and validates the configuration file. Prints every problem to stderr as
// `file:line: key: message` (warnings included); returns nullopt when there is an error.
// Never prints a password.
std::optional<Config> load_config_or_report(const std::string& path);

// Reads and validates without printing.
ConfigResult load_config(const std::string& path);

}  // namespace ubc
