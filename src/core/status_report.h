// SPDX-License-Identifier: MIT
// What `usb-backup-copier status` shows: running and queued copies, Veeam leases, and the
// last run of every whitelisted disk (stale ones marked).
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "ports/history.h"
#include "ports/veeam_gate.h"

namespace ubc {

struct StatusOverview {
  std::vector<Status> jobs;
  std::vector<Lease> leases;
  std::vector<HistoryRow> last_runs;           // History::last_run_per_disk()
  std::vector<HistoryRow> last_good;           // History::last_success_per_disk()
  std::vector<HistoryRow> last_verifications;  // History::last_verification_per_disk()
  std::vector<DiskRestorePoints> restore_points;  // History::restore_points_per_disk()
  std::int64_t now = 0;
};

std::string render_status_text(const Config& config, const StatusOverview& overview);
std::string render_status_json(const Config& config, const StatusOverview& overview);

}  // namespace ubc
