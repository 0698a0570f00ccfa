// SPDX-License-Identifier: MIT
// What `status` and `serve` show, read fresh each time: the live status files, the run
// history and the Veeam leases. Reads only; it works for a user that may write nothing.
#pragma once

#include <cstdint>

#include "core/config.h"
#include "core/status_report.h"
#include "ports/history.h"

namespace ubc {

// Throws std::system_error naming what could not be read.
StatusOverview gather_status(const Config& config, History& history, std::int64_t now);

}  // namespace ubc
