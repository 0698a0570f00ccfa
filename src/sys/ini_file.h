// SPDX-License-Identifier: MIT
// Reads config.ini with inih, keeping the line of every entry so that check-config can
// point at it. Judging the entries is core/config's job; this only reports what is not
// INI at all (unreadable file, a line that is neither a section, a key nor a comment).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace ubc {

struct IniFile {
  std::vector<IniEntry> entries;        // in file order; a key set twice appears twice
  std::vector<ConfigProblem> problems;  // errors only; key "" (they concern no key)
};

// Section and key names are kept as written (section names trimmed); build_config
// compares them case-insensitively, as the older configparser-based script did for keys.
//
// A line that starts with whitespace continues the value of the key above it (Python
// configparser's multi-line values). It is appended to that entry after a "\n" per
// physical line, so the k-th line of a value is at entry.line + k: blank and comment
// lines in between keep their place as empty lines of the value.
//
// Comments: whole lines starting with ';' or '#', and the rest of a line after " ;"
// (inih's inline comments; unlike configparser, so a password containing " ;" must go in
// password-file).
//
// A file that cannot be read is a problem (line 0), not an exception.
IniFile read_ini_file(const std::string& path);

// The same for text already in memory.
IniFile parse_ini(std::string_view text);

}  // namespace ubc
