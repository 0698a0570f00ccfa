// SPDX-License-Identifier: MIT
// Command-line parsing shared by the three binaries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"

namespace ubc {

// Splits off the options every binary takes (--config PATH, --config=PATH) wherever they
// stand; the config path falls back to $USB_BACKUP_COPIER_CONFIG, then the default.
// Returns the remaining words in inv.args. error is set for a --config without a path.
Invocation parse_invocation(int argc, char** argv, std::string& error);

// Removes `name` from args; true if it was there.
bool take_flag(std::vector<std::string>& args, const std::string& name);
// Removes `name VALUE` or `name=VALUE` from args. error is set when the value is missing.
std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name,
                                       std::string& error);

// The whole of a main(): parses the global options, runs `command`, and turns anything it
// throws into an error line and exit 1 (nothing else in the program exits).
int run_main(int argc, char** argv, const char* usage, int (*command)(const Invocation&));

// Prints "program: message" and the usage text to stderr; returns kExitUsage.
int usage_error(const std::string& program, const std::string& message, const char* usage);

}  // namespace ubc
