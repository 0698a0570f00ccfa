// SPDX-License-Identifier: MIT
// ping-url in Healthchecks' convention: URL/start when a copy begins, URL when it ends
// complete, URL/fail when it does not.
#pragma once

#include <optional>
#include <string>

#include "core/report.h"
#include "ports/pinger.h"

namespace ubc {

std::string start_ping_url(const std::string& base);
// nullopt for a run that was never a copy of ours (not whitelisted, already running).
std::optional<std::string> end_ping_url(const std::string& base, Outcome outcome);

// Pings url; nullopt when it answered, otherwise the warning for the run's report.
std::optional<std::string> ping_monitor(Pinger& pinger, const std::string& url);

}  // namespace ubc
