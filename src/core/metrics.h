// SPDX-License-Identifier: MIT
// The Prometheus text exposition format (version 0.0.4) of what the copier knows: per
// whitelisted disk its last good copy and last run, per running job its progress. Served
// by `serve` at /metrics; a function of data so that it can also be written to a file
// for node_exporter's textfile collector.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status_report.h"
#include "ports/history.h"

namespace ubc {

// last_successes: History::last_success_per_disk().
std::string render_metrics(const Config& config, const StatusOverview& overview,
                           const std::vector<HistoryRow>& last_successes);

// A label value as the format wants it inside double quotes: backslash, double quote and
// line feed escaped; bytes that are not UTF-8 replaced by U+FFFD.
std::string escape_label_value(std::string_view value);

}  // namespace ubc
