// SPDX-License-Identifier: MIT
// Small text chores shared across the program. ASCII-only and locale-independent: config
// keys, UUIDs and protocol words must not change meaning with LANG.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ubc {

bool is_space(char c);  // ' ', \t, \r, \n, \f, \v
bool is_ascii_alnum(char c);
std::string_view trim(std::string_view s);
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// 'text' with quotes, as messages quote values.
std::string quoted(std::string_view text);
// The items with `separator` between them.
std::string join(const std::vector<std::string>& items, std::string_view separator);
// "1 file", "3 files".
std::string count_of(std::uint64_t n, std::string_view one, std::string_view many);

// What of a disk UUID may go into a file name: ASCII letters, digits and '-', in their case.
std::string uuid_name_chars(std::string_view uuid);
// The UUID as a file-name stem, lower-cased so that one disk has one name whatever case its
// UUID is written in; nullopt when it is empty or holds anything uuid_name_chars drops.
std::optional<std::string> uuid_file_stem(std::string_view uuid);

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid too).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace ubc
