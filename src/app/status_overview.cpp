// SPDX-License-Identifier: MIT
#include "app/status_overview.h"

#include "sys/lease_directory.h"
#include "sys/status_file_sink.h"

namespace ubc {

StatusOverview gather_status(const Config& config, History& history, std::int64_t now) {
  StatusOverview overview;
  overview.now = now;
  overview.jobs = read_all_status(config.runtime_directory);
  overview.last_runs = history.last_run_per_disk();
  overview.last_good = history.last_success_per_disk();
  overview.last_verifications = history.last_verification_per_disk();
  overview.restore_points = history.restore_points_per_disk();
  overview.leases = read_live_leases(LeaseDirectorySettings(config));
  return overview;
}

}  // namespace ubc
