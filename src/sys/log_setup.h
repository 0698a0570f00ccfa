// SPDX-License-Identifier: MIT
// Where the log goes: the journal (no timestamps: journald adds its own) when stderr is the
// journal stream, the console otherwise; plus log-file-path once the config is known. Every
// sink escapes control characters in the message (core/log_escape.h).
#pragma once

#include <string>

namespace ubc {

// Replaces spdlog's default logger. Call first thing in main().
void setup_logging(const std::string& program);
// Appends every line to path as well. Returns an error text if the file cannot be opened.
std::string add_log_file(const std::string& path);
// True when systemd connected stderr to the journal ($JOURNAL_STREAM matches fd 2).
bool stderr_is_journal();

}  // namespace ubc
