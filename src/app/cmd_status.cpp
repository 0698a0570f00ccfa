// SPDX-License-Identifier: MIT
// `usb-backup-copier status [--json]`.
#include <ctime>
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "app/status_overview.h"
#include "core/exit_codes.h"
#include "core/status_report.h"
#include "sys/sqlite_history.h"

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
  try {
    SqliteHistory history(config->state_directory, HistoryAccess::read_only);
    overview = gather_status(*config, history, static_cast<std::int64_t>(std::time(nullptr)));
  } catch (const std::exception& e) {
    std::cerr << inv.program << ": cannot read the status: " << e.what() << "\n";
    return kExitFailed;
  }
  std::cout << (json ? render_status_json(*config, overview) : render_status_text(*config, overview));
  return kExitOk;
}

}  // namespace ubc
