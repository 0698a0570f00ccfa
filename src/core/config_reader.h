// SPDX-License-Identifier: MIT
// build_config's bookkeeping: which keys exist, where each was set, and the typed readers
// that turn a value into a number, flag, path or address list — or into a problem that
// names the line and key and says what to write instead.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/text.h"

namespace ubc {

inline constexpr std::string_view kDiskListKey = "filesystem-ids-and-notification-mail-addresses";

class ConfigReader {
 public:
  // Indexes the entries under their canonical "Section.key", reporting unknown sections
  // and keys (with the nearest known name) and keys set twice.
  explicit ConfigReader(const std::vector<IniEntry>& entries);

  ConfigReader(const ConfigReader&) = delete;
  ConfigReader& operator=(const ConfigReader&) = delete;

  // Every problem so far, in file order (problems without a line first).
  std::vector<ConfigProblem> take_problems();

  static std::string name(std::string_view section, std::string_view key);
  void error(int line, std::string key, std::string message);
  void warning(int line, std::string key, std::string message);

  // The first entry of a known key, or nullptr.
  const IniEntry* find(std::string_view section, std::string_view key) const;
  // The entry if its value fits on one line; nullptr when absent or reported.
  const IniEntry* single(std::string_view section, std::string_view key);
  // The entry of a key that must be set; nullptr after reporting it absent or empty. A
  // section missing as a whole is reported once instead of key by key.
  const IniEntry* required(std::string_view section, std::string_view key, const std::string& hint);
  const IniEntry* required_single(std::string_view section, std::string_view key,
                                  const std::string& hint);

  // Each reader leaves `out` (the default) alone when the key is absent, empty or wrong.
  // `example` is shown in the message; -1 shows the default.
  void read_int(std::string_view section, std::string_view key, int min, int max,
                std::string_view unit, int& out, int example = -1);
  // Returns whether the key was given with a valid value.
  bool read_bool(std::string_view section, std::string_view key, bool& out);
  // An absolute path, normalized; nullopt when absent, empty or reported.
  std::optional<std::string> read_path(std::string_view section, std::string_view key,
                                       std::string_view example);
  // A comma list of mail addresses, without the bad ones (each reported).
  std::vector<std::string> read_mail_list(std::string_view section, std::string_view key);
  bool check_mail(int line, const std::string& key, const std::string& text);
  // An optional key naming a file that must exist; `what_to_do` ends the message.
  void read_existing_file(const ConfigEnvironment& env, const std::string& section,
                          const std::string& key, const std::string& example,
                          const std::string& what_to_do, std::string& out);
  // One of a few words (case-insensitive); anything else is an error saying what it takes.
  template <typename T>
  void read_choice(std::string_view section, std::string_view key,
                   std::initializer_list<std::pair<std::string_view, T>> choices,
                   std::string_view expected, T& out) {
    const IniEntry* entry = single(section, key);
    if (entry == nullptr || entry->value.empty()) return;
    for (const auto& [word, value] : choices)
      if (lower(entry->value) == word) {
        out = value;
        return;
      }
    error(entry->line, name(section, key), quoted(entry->value) + " is not " + std::string(expected));
  }

 private:
  void report_unknown_section(const IniEntry& entry);
  void report_unknown_key(std::string_view section, const IniEntry& entry);

  std::vector<ConfigProblem> problems_;
  std::map<std::string, const IniEntry*> found_;  // "Section.key" -> its first entry
  std::set<std::string> sections_seen_;
  std::set<std::string> reported_sections_;  // unknown or missing, lower-cased
};

// The [Mail] section's reader (config_mail.cpp).
void read_mail(ConfigReader& r, Config& c, const ConfigEnvironment& env);

}  // namespace ubc
