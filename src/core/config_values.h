// SPDX-License-Identifier: MIT
// The small parsers behind build_config: config.ini's value syntax (numbers, booleans,
// lists, paths) and the name matching that turns a typo into "did you mean ...?".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ubc::config_values {

bool has_space(std::string_view s);

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a typo of it.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string_view>& candidates);

// configparser's getboolean(): 1/yes/true/on, 0/no/false/off, any case.
std::optional<bool> parse_bool(std::string_view s);

struct ParsedInt {
  bool is_number = false;  // an optional sign followed by digits only
  long long value = 0;     // clamped to +-10^15 when huge: the range check reports it
};
ParsedInt parse_int(std::string_view s);

// One element of a comma list and the line of the value it is on (0 = the key's line).
struct ListItem {
  std::string text;  // trimmed, never empty
  int line_offset = 0;
};
// Splits on commas and on the "\n" that continuation lines leave; empty items dropped.
std::vector<ListItem> split_list(std::string_view value);

// "/srv//veeam/" -> "/srv/veeam"; "/" stays "/". Only for absolute paths.
std::string normalize_path(std::string_view path);
// "/a/b" -> "/a", "/a" -> "/".
std::string parent_path(std::string_view normalized);
// `relative` read from the absolute, normalized `base`, with "." and ".." taken lexically
// (as the older script's string concatenation reached the same file): ("/srv/veeam",
// "./locks/../.lock") -> "/srv/veeam/.lock". ".." never climbs above "/".
std::string resolve_path(std::string_view base, std::string_view relative);
// True when `inner` is `outer` or below it (both normalized).
bool is_same_or_below(std::string_view inner, std::string_view outer);

}  // namespace ubc::config_values
