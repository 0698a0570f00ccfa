// SPDX-License-Identifier: MIT
#include "core/config_values.h"

#include <algorithm>
#include <charconv>

#include "core/config.h"
#include "core/text.h"

namespace ubc {
namespace config_values {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Bytes of UTF-8 sequences: internationalised addresses are left to the server to judge.
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

}  // namespace

bool has_space(std::string_view s) { return std::any_of(s.begin(), s.end(), is_space); }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = iequals(a.substr(i - 1, 1), b.substr(j - 1, 1)) ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string_view>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string_view candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    // A third of the name can be wrong ("backup_sorce", "wait-for-veeam-minute") before a
    // suggestion stops being a plausible reading of what was meant.
    const std::size_t reach = std::max<std::size_t>(2, candidate.size() / 3);
    if (d <= reach && (!best || d < best_distance)) {
      best = std::string(candidate);
      best_distance = d;
    }
  }
  return best;
}

std::optional<bool> parse_bool(std::string_view s) {
  const std::string l = lower(trim(s));
  if (l == "1" || l == "yes" || l == "true" || l == "on") return true;
  if (l == "0" || l == "no" || l == "false" || l == "off") return false;
  return std::nullopt;
}

ParsedInt parse_int(std::string_view s) {
  s = trim(s);
  ParsedInt out;
  std::string_view digits = s;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return out;
  out.is_number = true;
  constexpr long long kHuge = 1'000'000'000'000'000;
  long long magnitude = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (ec != std::errc() || magnitude > kHuge) magnitude = kHuge;
  out.value = s.front() == '-' ? -magnitude : magnitude;
  return out;
}

std::vector<ListItem> split_list(std::string_view value) {
  std::vector<ListItem> items;
  int line_offset = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size() && value[i] != ',' && value[i] != '\n') continue;
    const std::string_view item = trim(value.substr(start, i - start));
    if (!item.empty()) items.push_back(ListItem{std::string(item), line_offset});
    if (i < value.size() && value[i] == '\n') ++line_offset;
    start = i + 1;
  }
  return items;
}

std::string normalize_path(std::string_view path) {
  std::string out;
  for (const char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string parent_path(std::string_view normalized) {
  const std::size_t slash = normalized.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(normalized.substr(0, slash));
}

std::string resolve_path(std::string_view base, std::string_view relative) {
  std::string out = normalize_path(base);
  std::size_t start = 0;
  while (start <= relative.size()) {
    const std::size_t slash = std::min(relative.find('/', start), relative.size());
    const std::string_view part = relative.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      out = parent_path(out);
      continue;
    }
    if (out.back() != '/') out += '/';
    out += part;
  }
  return out;
}

bool is_same_or_below(std::string_view inner, std::string_view outer) {
  if (outer == "/") return true;
  return inner == outer || (inner.size() > outer.size() && inner.substr(0, outer.size()) == outer &&
                            inner[outer.size()] == '/');
}

}  // namespace config_values

// The three forms blkid reports for the filesystems a rotation disk may carry.
bool is_valid_fs_uuid(std::string_view uuid) {
  using config_values::is_hex;
  if (uuid.size() == 36) {  // ext2/3/4, xfs, btrfs: 8-4-4-4-12
    for (std::size_t i = 0; i < uuid.size(); ++i) {
      const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_here ? uuid[i] != '-' : !is_hex(uuid[i])) return false;
    }
    return true;
  }
  if (uuid.size() == 9) {  // FAT and exFAT volume serial: XXXX-XXXX
    for (std::size_t i = 0; i < uuid.size(); ++i) {
      if (i == 4 ? uuid[i] != '-' : !is_hex(uuid[i])) return false;
    }
    return true;
  }
  if (uuid.size() == 16) {  // NTFS volume serial
    return std::all_of(uuid.begin(), uuid.end(), is_hex);
  }
  return false;
}

// Practical, not RFC 5321 complete: a dot-atom local part and hostname labels. What passes
// reaches the envelope and headers, where a stray comma, space or CR must never get through.
bool is_valid_mail_address(std::string_view address) {
  using config_values::is_non_ascii;
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos || address.size() > 254) return false;
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);

  constexpr std::string_view kLocalSpecials = "!#$%&'*+-/=?^_`{|}~.";
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char c : local) {
    if (!is_ascii_alnum(c) && !is_non_ascii(c) && kLocalSpecials.find(c) == std::string_view::npos) {
      return false;
    }
  }

  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!is_ascii_alnum(c) && !is_non_ascii(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace ubc
