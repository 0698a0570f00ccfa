// SPDX-License-Identifier: MIT
// `usb-backup-copier status [--json]`.
#include <ctime>
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/exit_codes.h"
#include "core/status_report.h"
#include "sys/directory_lease_store.h"
#include "sys/sqlite_history.h"
#include "sys/status_file_sink.h"

namespace ubc {

int cmd_status(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  const bool json = take_flag(args, "--json");
  if (!args.empty())
    return usage_error(inv.program, "unexpected argument '" + args.front() + "'",
                       "usage: usb-backup-copier [--config PATH] status [--json]\n");
  const auto config = load_config_or_report(inv.config_path);
  if (!config) return kExitConfig;
  StatusOverview overview;
  overview.now = static_cast<std::int64_t>(std::time(nullptr));
  try {
    overview.jobs = read_all_status(config->runtime_directory);
    SqliteHistory history(config->state_directory);
    overview.last_runs = history.last_run_per_disk();
    DirectoryLeaseStore leases(*config);
    overview.leases = leases.list_leases().live;
  } catch (const std::exception& e) {
    std::cerr << inv.program << ": cannot read the status: " << e.what() << "\n";
    return kExitFailed;
  }
  std::cout << (json ? render_status_json(*config, overview) : render_status_text(*config, overview));
  return kExitOk;
}

}  // namespace ubc
