// SPDX-License-Identifier: MIT
#include "core/web_api.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/json.h"

namespace ubc {

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::size_t count_lines(const std::string& text) {
  if (text.empty()) return 0;
  std::size_t n = 1;
  for (const char c : text) n += c == '\n';
  return n;
}

}  // namespace

std::optional<int> parse_runs_limit(const std::optional<std::string>& value) {
  if (!value) return kDefaultRunsLimit;
  if (!all_digits(*value)) return std::nullopt;
  const std::string_view digits = std::string_view(*value).substr(std::min(value->find_first_not_of('0'), value->size()));
  if (digits.empty()) return std::nullopt;  // zero
  // A number too long for an int asks for as many as there may be.
  const int n = digits.size() > 9 ? kMaxRunsLimit : std::stoi(std::string(digits));
  return std::min(n, kMaxRunsLimit);
}

std::optional<std::int64_t> parse_run_log_path(const std::string& path) {
  constexpr std::string_view prefix = "/runs/", suffix = "/log";
  if (!path.starts_with(prefix) || !path.ends_with(suffix) || path.size() < prefix.size() + suffix.size())
    return std::nullopt;
  const std::string_view digits =
      std::string_view(path).substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  std::int64_t id = 0;
  if (!all_digits(digits) || std::from_chars(digits.data(), digits.data() + digits.size(), id).ec != std::errc() ||
      id <= 0)
    return std::nullopt;
  return id;
}

std::string render_runs_json(const std::vector<HistoryRow>& rows) {
  Json runs = Json::array();
  for (const auto& row : rows) {
    Json run;
    run["id"] = row.id;
    run["uuid"] = row.uuid;
    run["label"] = row.label;
    run["action"] = row.action;
    run["started"] = row.started_at;
    run["finished"] = row.finished_at;
    run["outcome"] = row.outcome;
    run["reason"] = row.reason;
    run["bytes"] = row.bytes;
    run["files"] = row.files;
    run["verified_bytes"] = row.verification ? Json(row.verification->bytes) : Json();
    run["warnings"] = count_lines(row.warnings);
    runs.push_back(std::move(run));
  }
  Json doc;
  doc["runs"] = std::move(runs);
  return dump_json(doc) + "\n";
}

}  // namespace ubc
