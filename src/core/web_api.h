// SPDX-License-Identifier: MIT
// What `serve` answers besides /api/status (status_report.h) and /metrics (metrics.h):
// the recent runs, and the parsing of the requests' parameters.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ports/history.h"

namespace ubc {

inline constexpr int kDefaultRunsLimit = 50;
inline constexpr int kMaxRunsLimit = 500;

// /api/runs?limit=N: absent gives the default, larger than the maximum gives the maximum;
// nullopt for anything but a positive decimal number.
std::optional<int> parse_runs_limit(const std::optional<std::string>& value);

// /runs/<id>/log: the id, or nullopt when the path is not of that form.
std::optional<std::int64_t> parse_run_log_path(const std::string& path);

// {"runs": [{"id", "uuid", "label", "action", "started", "finished", "outcome", "reason",
// "bytes", "files", "verified_bytes" (null: nothing read back), "warnings" (a count)}]},
// newest first as given. Bytes that are not UTF-8 (labels come from the disk) are replaced.
std::string render_runs_json(const std::vector<HistoryRow>& rows);

}  // namespace ubc
