// SPDX-License-Identifier: MIT
// Turns INI text into IniEntries the way src/sys/ini_file does with inih, so that config
// tests run without the C library. tests/integration/ini_file_test.cpp checks that both
// agree on every fixture in tests/unit/fixtures/config.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace ubc::test {

inline std::string_view ini_trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Everything before an inline comment (';' after whitespace).
inline std::string_view ini_strip_comment(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == ';' && (s[i - 1] == ' ' || s[i - 1] == '\t')) return ini_trim(s.substr(0, i));
  }
  return ini_trim(s);
}

// Sections, `key = value` / `key: value`, whole-line and inline comments, and indented
// continuation lines (one "\n" per physical line). Lines it cannot read are skipped.
inline std::vector<IniEntry> parse_ini_text(std::string_view text) {
  std::vector<IniEntry> entries;
  std::string section;
  bool key_in_section = false;
  int last_value_line = 0;
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    const std::string_view body = ini_trim(line);
    if (body.empty() || body.front() == ';' || body.front() == '#') continue;
    if ((line.front() == ' ' || line.front() == '\t') && key_in_section) {
      entries.back().value.append(static_cast<std::size_t>(number - last_value_line), '\n');
      entries.back().value.append(ini_strip_comment(body));
      last_value_line = number;
    } else if (body.front() == '[') {
      const std::size_t close = body.find(']');
      if (close == std::string_view::npos) continue;
      section = std::string(ini_trim(body.substr(1, close - 1)));
      key_in_section = false;
    } else {
      const std::size_t sep = body.find_first_of("=:");
      if (sep == std::string_view::npos) continue;
      entries.push_back(IniEntry{section, std::string(ini_trim(body.substr(0, sep))),
                                 std::string(ini_strip_comment(ini_trim(body.substr(sep + 1)))),
                                 number});
      last_value_line = number;
      key_in_section = !entries.back().key.empty();
    }
  }
  return entries;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace ubc::test
