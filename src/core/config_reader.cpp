// SPDX-License-Identifier: MIT
#include "core/config_reader.h"

#include <algorithm>
#include <utility>

#include "core/config_values.h"
#include "core/text.h"

namespace ubc {

using namespace config_values;

namespace {

struct KeySpec {
  std::string_view section;
  std::string_view key;
};

// Every key the copier reads: the older script's names (DESIGN.md §6) and ours.
constexpr KeySpec kKeys[] = {
    {"Backup", kDiskListKey},
    {"Backup", "backup-source"},
    {"Backup", "backup-destination"},
    {"Backup", "backup-lockfile-path"},
    {"Backup", "veeam-lockfile-path"},
    {"Backup", "log-file-path"},
    {"Backup", "rsync-log-file-path"},
    {"Backup", "wait-for-veeam-minutes"},
    {"Backup", "rsync-update-ratio-seconds"},
    {"Backup", "free-space-threshold-gb"},
    {"Backup", "state-directory"},
    {"Backup", "runtime-directory"},
    {"Backup", "rsync-excludes-file"},
    {"Backup", "stall-timeout-minutes"},
    {"Backup", "copy-yields-to-veeam"},
    {"Backup", "veeam-lease-ttl-hours"},
    {"Backup", "stale-after-days"},
    {"Backup", "history-keep-days"},
    {"Backup", "require-enrollment"},
    {"Backup", "security-strict"},
    {"Backup", "max-delete-percent"},
    {"Backup", "source-must-be-mountpoint"},
    {"Backup", "wait-for-queue-minutes"},
    {"Backup", "verify"},
    {"Backup", "restore-points"},
    {"Mail", "to-mail-addresses-sysop"},
    {"Mail", "from-mail-address"},
    {"Mail", "cc"},
    {"Mail", "server"},
    {"Mail", "port"},
    {"Mail", "username"},
    {"Mail", "password"},
    {"Mail", "password-file"},
    {"Mail", "ca-file"},
    {"Mail", "security"},
    {"Mail", "send-start-mail"},
    {"Monitoring", "metrics-textfile"},
    {"Monitoring", "ping-url"},
    {"Webserver", "webhost"},
    {"Webserver", "webport"},
    {"VEEAM", "veeam-lockfiles"},
    {"VEEAM", "wait-for-backup-minutes"},
    {"Debug", "debug"},
};

constexpr std::string_view kSections[] = {"Backup", "Mail", "Monitoring", "Webserver", "VEEAM", "Debug"};
constexpr std::string_view kSectionList = "[Backup], [Mail], [Monitoring], [Webserver], [VEEAM] and [Debug]";

std::optional<std::string_view> section_of(std::string_view key) {
  for (const KeySpec& spec : kKeys) {
    if (iequals(spec.key, key)) return spec.section;
  }
  return std::nullopt;
}

}  // namespace

ConfigReader::ConfigReader(const std::vector<IniEntry>& entries) {
  for (const IniEntry& entry : entries) {
    const auto section =
        std::find_if(std::begin(kSections), std::end(kSections),
                     [&](std::string_view s) { return iequals(s, entry.section); });
    if (section == std::end(kSections)) {
      report_unknown_section(entry);
      continue;
    }
    sections_seen_.insert(std::string(*section));
    const auto spec = std::find_if(std::begin(kKeys), std::end(kKeys), [&](const KeySpec& k) {
      return k.section == *section && iequals(k.key, entry.key);
    });
    if (spec == std::end(kKeys)) {
      report_unknown_key(*section, entry);
      continue;
    }
    const std::string key = name(spec->section, spec->key);
    const auto [it, inserted] = found_.emplace(key, &entry);
    if (!inserted) {
      error(entry.line, key,
            "is set twice (first on line " + std::to_string(it->second->line) +
                "); delete one of the two lines");
    }
  }
}

std::vector<ConfigProblem> ConfigReader::take_problems() {
  std::stable_sort(problems_.begin(), problems_.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return std::move(problems_);
}

std::string ConfigReader::name(std::string_view section, std::string_view key) {
  return std::string(section) + "." + std::string(key);
}

void ConfigReader::error(int line, std::string key, std::string message) {
  problems_.push_back(
      ConfigProblem{ConfigProblem::Severity::error, line, std::move(key), std::move(message)});
}

void ConfigReader::warning(int line, std::string key, std::string message) {
  problems_.push_back(
      ConfigProblem{ConfigProblem::Severity::warning, line, std::move(key), std::move(message)});
}

void ConfigReader::report_unknown_section(const IniEntry& entry) {
  if (entry.section.empty()) {
    const auto owner = section_of(entry.key);
    error(entry.line, entry.key,
          owner ? "stands before any section header; move it below [" + std::string(*owner) + "]"
                : "stands before any section header; move it below the section it belongs "
                  "to (" +
                      std::string(kSectionList) + ")");
    return;
  }
  // One message per section, not one per key in it.
  if (!reported_sections_.insert(lower(entry.section)).second) return;
  const auto guess = nearest(entry.section, {std::begin(kSections), std::end(kSections)});
  std::string message = "unknown section [" + entry.section + "]";
  message += guess ? "; did you mean [" + *guess + "]?" : ";";
  message += " The sections are " + std::string(kSectionList) + ".";
  error(entry.line, "[" + entry.section + "]", std::move(message));
}

void ConfigReader::report_unknown_key(std::string_view section, const IniEntry& entry) {
  const std::string key = name(section, entry.key);
  if (const auto owner = section_of(entry.key)) {
    error(entry.line, key,
          "belongs in [" + std::string(*owner) + "], not [" + std::string(section) +
              "]; move the line there");
    return;
  }
  std::vector<std::string_view> candidates;
  for (const KeySpec& spec : kKeys) {
    if (spec.section == section) candidates.push_back(spec.key);
  }
  if (const auto guess = nearest(entry.key, candidates)) {
    error(entry.line, key, "unknown key; did you mean " + quoted(*guess) + "?");
  } else {
    error(entry.line, key,
          "unknown key in [" + std::string(section) +
              "]; correct its name (config.ini.template lists every key) or delete the line");
  }
}

const IniEntry* ConfigReader::find(std::string_view section, std::string_view key) const {
  const auto it = found_.find(name(section, key));
  return it == found_.end() ? nullptr : it->second;
}

const IniEntry* ConfigReader::single(std::string_view section, std::string_view key) {
  const IniEntry* entry = find(section, key);
  if (entry == nullptr || entry->value.find('\n') == std::string::npos) return entry;
  // Point at the first continuation line that carries text: that is the indented line.
  int offset = 0;
  for (const char c : entry->value) {
    if (c == '\n') {
      ++offset;
    } else if (offset > 0) {
      break;
    }
  }
  const std::string line = std::to_string(entry->line + offset);
  error(entry->line, name(section, key),
        "line " + line +
            " is indented, so it is read as more of this value; remove the "
            "indentation of line " +
            line + " or put the whole value on one line");
  return nullptr;
}

const IniEntry* ConfigReader::required(std::string_view section, std::string_view key,
                                       const std::string& hint) {
  const IniEntry* entry = find(section, key);
  if (entry != nullptr && !split_list(entry->value).empty()) return entry;
  if (entry == nullptr && sections_seen_.count(std::string(section)) == 0) {
    if (reported_sections_.insert("missing " + std::string(section)).second) {
      error(0, "[" + std::string(section) + "]",
            section == "Mail"
                ? "section [Mail] is missing or empty; every copy ends with a mail, so add "
                  "[Mail] with server, from-mail-address and to-mail-addresses-sysop (see "
                  "config.ini.template)"
                : "section [" + std::string(section) + "] is missing or empty; add it with " +
                      std::string(kDiskListKey) +
                      ", backup-source and backup-destination (see config.ini.template)");
    }
    return nullptr;
  }
  error(entry != nullptr ? entry->line : 0, name(section, key),
        std::string(entry != nullptr ? "is empty" : "is missing") + "; " + hint);
  return nullptr;
}

const IniEntry* ConfigReader::required_single(std::string_view section, std::string_view key,
                                              const std::string& hint) {
  return required(section, key, hint) != nullptr ? single(section, key) : nullptr;
}

void ConfigReader::read_int(std::string_view section, std::string_view key, int min, int max,
                            std::string_view unit, int& out, int example) {
  const IniEntry* entry = single(section, key);
  if (entry == nullptr || entry->value.empty()) return;
  const std::string range = "a whole number " +
                            (unit.empty() ? "" : "of " + std::string(unit) + " ") + "from " +
                            std::to_string(min) + " to " + std::to_string(max);
  const std::string sample =
      std::string(key) + " = " + std::to_string(example >= 0 ? example : out);
  const ParsedInt parsed = parse_int(entry->value);
  if (!parsed.is_number) {
    error(entry->line, name(section, key),
          quoted(entry->value) + " is not a whole number; write " + range + ", e.g. `" + sample +
              "`");
    return;
  }
  if (parsed.value < min || parsed.value > max) {
    error(entry->line, name(section, key),
          std::to_string(parsed.value) + " is out of range; write " + range + ", e.g. `" + sample +
              "`");
    return;
  }
  out = static_cast<int>(parsed.value);
}

bool ConfigReader::read_bool(std::string_view section, std::string_view key, bool& out) {
  const IniEntry* entry = single(section, key);
  if (entry == nullptr || entry->value.empty()) return false;
  const auto value = parse_bool(entry->value);
  if (!value) {
    error(entry->line, name(section, key),
          quoted(entry->value) + " is not yes or no; write `" + std::string(key) + " = " +
              (out ? "yes" : "no") + "` or the opposite (true/false, on/off and 1/0 work too)");
    return false;
  }
  out = *value;
  return true;
}

std::optional<std::string> ConfigReader::read_path(std::string_view section, std::string_view key,
                                                   std::string_view example) {
  const IniEntry* entry = single(section, key);
  if (entry == nullptr || entry->value.empty()) return std::nullopt;
  if (entry->value.front() != '/') {
    error(entry->line, name(section, key),
          quoted(entry->value) +
              " is not an absolute path; write the full path starting "
              "with '/', e.g. " +
              std::string(example));
    return std::nullopt;
  }
  return normalize_path(entry->value);
}

std::vector<std::string> ConfigReader::read_mail_list(std::string_view section,
                                                      std::string_view key) {
  std::vector<std::string> mails;
  const IniEntry* entry = find(section, key);
  if (entry == nullptr) return mails;
  for (const ListItem& item : split_list(entry->value)) {
    if (check_mail(entry->line + item.line_offset, name(section, key), item.text)) {
      mails.push_back(item.text);
    }
  }
  return mails;
}

bool ConfigReader::check_mail(int line, const std::string& key, const std::string& text) {
  if (is_valid_mail_address(text)) return true;
  std::string hint = "write a plain address such as alice@example.com";
  if (text.find_first_of("<>\"") != std::string::npos) {
    hint = "write only the address, without a name or <>: alice@example.com";
  } else if (text.find_first_of("; \t") != std::string::npos) {
    hint = "separate addresses with commas: alice@example.com, bob@example.com";
  }
  error(line, key, quoted(text) + " is not a mail address; " + hint);
  return false;
}

void ConfigReader::read_existing_file(const ConfigEnvironment& env, const std::string& section,
                                      const std::string& key, const std::string& example,
                                      const std::string& what_to_do, std::string& out) {
  const auto path = read_path(section, key, example);
  if (!path) return;
  if (!env.file_mode(*path) || env.is_directory(*path)) {
    error(find(section, key)->line, section + "." + key,
          quoted(*path) + " does not exist or is not a file; " + what_to_do);
    return;
  }
  out = *path;
}

}  // namespace ubc
