// SPDX-License-Identifier: MIT
// Disks that have not been home too long (DESIGN.md §9): a whitelisted disk whose last good
// copy is older than stale-after-days, or that never had one. `check-stale` mails the
// admins about them, at most once per disk per day.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "ports/file_system.h"
#include "ports/history.h"
#include "ports/mailer.h"

namespace ubc {

struct StaleDisk {
  std::string uuid;
  std::string label;                         // of its last good copy; may be empty
  std::optional<std::int64_t> last_good_at;  // nullopt: never copied
  std::vector<std::string> mails;            // the disk's own addresses
};

// Whole seconds in unix time: time zones and daylight saving play no part. A last copy
// "in the future" (a clock set back) is not stale.
bool is_stale(std::optional<std::int64_t> last_good_at, int stale_after_days, std::int64_t now);

// Every whitelisted disk that is stale, in the order of the configuration. `last_good`
// holds the newest good copy of each disk that had one.
std::vector<StaleDisk> stale_disks(const Config& config, const std::vector<HistoryRow>& last_good,
                                   std::int64_t now);

// When each disk was last alerted about: state-directory/stale-alerts, "UUID UNIX-TIME" lines.
using StaleAlerts = std::map<std::string, std::int64_t>;
inline constexpr const char* kStaleAlertsFile = "stale-alerts";
StaleAlerts parse_stale_alerts(std::string_view text);
std::string render_stale_alerts(const StaleAlerts& alerts);

// A disk is alerted about again only 20 h after its last alert: a daily timer with a random
// delay still mails daily, a second run on the same day does not.
inline constexpr std::int64_t kStaleRealertSeconds = 20 * 3600;
std::vector<StaleDisk> alerts_due(const std::vector<StaleDisk>& stale, const StaleAlerts& alerts,
                                  std::int64_t now);

Email compose_stale_mail(const Config& config, const std::string& host, const std::vector<StaleDisk>& disks,
                         std::int64_t now);

struct StaleCheck {
  std::vector<StaleDisk> stale;    // all stale disks
  std::vector<StaleDisk> alerted;  // those mailed about now
  std::optional<MailResult> mail;  // nothing was due: no mail
};

// Finds the stale disks, mails about those due and records the alert (also when the mail
// is kept to be sent later; a mail neither sent nor kept is tried again on the next run).
// Throws what the history or the file system throw.
StaleCheck check_stale(const Config& config, const std::string& host, History& history, FileSystem& fs,
                       Mailer& mailer, std::int64_t now);

}  // namespace ubc
