// SPDX-License-Identifier: MIT
// `usb-backup-copier check-stale`: run daily by usb-backup-copier-stale.timer.
#include <ctime>
#include <exception>
#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/exit_codes.h"
#include "core/format.h"
#include "core/outbox_mailer.h"
#include "core/stale.h"
#include "sys/curl_transport.h"
#include "sys/forked_transport.h"
#include "sys/outbox_directory.h"
#include "sys/posix_file_system.h"
#include "sys/process_info.h"
#include "sys/sqlite_history.h"
#include "sys/system_clock.h"

namespace ubc {

int cmd_check_stale(const Invocation& inv) {
  if (!inv.args.empty())
    return usage_error(inv.program, "unexpected argument '" + inv.args.front() + "'",
                       "usage: usb-backup-copier [--config PATH] check-stale\n");
  const auto config = load_config_or_report(inv.config_path);
  if (!config) return kExitConfig;
  const std::string host = host_name();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  StaleCheck check;
  try {
    SqliteHistory history(config->state_directory);
    PosixFileSystem fs;
    SystemClock clock;
    CurlTransport curl_transport(*config, host);
    ForkedMailTransport transport(curl_transport);  // libcurl only in a child, as in copy
    OutboxDirectory outbox(config->state_directory + "/outbox");
    OutboxMailer mailer(*config, transport, outbox, clock, nullptr);
    check = check_stale(*config, host, history, fs, mailer, now);
  } catch (const std::exception& e) {
    std::cerr << inv.program << ": cannot check for stale disks: " << e.what() << "\n";
    return kExitFailed;
  }
  if (check.stale.empty()) {
    std::cout << "Every whitelisted disk had a good copy in the last " << config->stale_after_days << " days.\n";
    return kExitOk;
  }
  for (const StaleDisk& d : check.stale)
    std::cout << "Stale: disk " << d.uuid << (d.label.empty() ? "" : " '" + d.label + "'")
              << (d.last_good_at ? ", last good copy " + format_utc(*d.last_good_at) : ", no good copy recorded")
              << "\n";
  if (!check.mail) {
    std::cout << "Already mailed about within the last day; no mail now.\n";
    return kExitOk;
  }
  if (check.mail->sent) {
    std::cout << "Mailed the admins about " << check.alerted.size() << " disk(s).\n";
    return kExitOk;
  }
  std::cerr << inv.program << ": the mail about stale disks was not sent (" << check.mail->error << ")"
            << (check.mail->kept_in_outbox ? "; it is kept and sent with the next mails\n"
                                           : " and could not be kept; it is tried again on the next run\n");
  if (!check.mail->unkept.empty()) std::cerr << check.mail->unkept << "\n";
  return check.mail->kept_in_outbox ? kExitOk : kExitFailed;
}

}  // namespace ubc
