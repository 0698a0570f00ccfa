// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace ubc {

// Reads and validates the configuration file. Prints every problem to stderr as
// `file:line: key: message` (warnings included); returns nullopt when there is an error.
// Never prints a password.
// The warnings about secrets (a password other users can read) are also added to
// *secret_warnings when given, for the run's report.
std::optional<Config> load_config_or_report(const std::string& path,
                                            std::vector<std::string>* secret_warnings = nullptr);

// Reads and validates without printing.
ConfigResult load_config(const std::string& path);

}  // namespace ubc
