// SPDX-License-Identifier: MIT
#include "core/stale.h"

#include <charconv>

#include "core/format.h"
#include "core/mail_compose.h"
#include "core/mime.h"
#include "core/text.h"

namespace ubc {

namespace {

constexpr std::uint64_t kStaleAlertsMaxBytes = 1 << 20;

std::string describe(const StaleDisk& d, std::int64_t now) {
  std::string line = "- " + d.uuid + (d.label.empty() ? "" : " ('" + d.label + "')") + ": ";
  if (!d.last_good_at) return line + "no good copy recorded";
  return line + "last good copy " + format_utc(*d.last_good_at) + ", " + format_duration(now - *d.last_good_at) +
         " ago";
}

}  // namespace

bool is_stale(std::optional<std::int64_t> last_good_at, int stale_after_days, std::int64_t now) {
  if (!last_good_at) return true;
  return now - *last_good_at > static_cast<std::int64_t>(stale_after_days) * 86400;
}

std::vector<StaleDisk> stale_disks(const Config& config, const std::vector<HistoryRow>& last_good,
                                   std::int64_t now) {
  std::vector<StaleDisk> out;
  for (const DiskEntry& disk : config.disks) {
    StaleDisk d{disk.uuid, {}, std::nullopt, disk.mails};
    for (const HistoryRow& row : last_good)
      if (iequals(row.uuid, disk.uuid) && (!d.last_good_at || row.finished_at > *d.last_good_at)) {
        d.last_good_at = row.finished_at;
        d.label = row.label;
      }
    if (is_stale(d.last_good_at, config.stale_after_days, now)) out.push_back(std::move(d));
  }
  return out;
}

StaleAlerts parse_stale_alerts(std::string_view text) {
  StaleAlerts alerts;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space == 0) continue;  // not ours: ignored
    std::int64_t at = 0;
    const std::string_view number = line.substr(space + 1);
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), at);
    if (ec != std::errc() || ptr != number.data() + number.size()) continue;
    alerts[std::string(line.substr(0, space))] = at;
  }
  return alerts;
}

std::string render_stale_alerts(const StaleAlerts& alerts) {
  std::string out;
  for (const auto& [uuid, at] : alerts) out += uuid + " " + std::to_string(at) + "\n";
  return out;
}

std::vector<StaleDisk> alerts_due(const std::vector<StaleDisk>& stale, const StaleAlerts& alerts,
                                  std::int64_t now) {
  std::vector<StaleDisk> due;
  for (const StaleDisk& d : stale) {
    const auto it = alerts.find(d.uuid);
    // A last alert "in the future" (the clock was set back) does not silence a disk for good.
    if (it == alerts.end() || now - it->second >= kStaleRealertSeconds || it->second > now) due.push_back(d);
  }
  return due;
}

Email compose_stale_mail(const Config& config, const std::string& host, const std::vector<StaleDisk>& disks,
                         std::int64_t now) {
  std::vector<std::string> mails;
  for (const StaleDisk& d : disks) mails.insert(mails.end(), d.mails.begin(), d.mails.end());
  Email mail = address_mail(config, mails);
  const std::string what = disks.size() == 1 ? "disk " + disks.front().uuid + " has had no good copy for " +
                                                   std::to_string(config.stale_after_days) + " days"
                                             : std::to_string(disks.size()) + " disks have had no good copy for " +
                                                   std::to_string(config.stale_after_days) + " days";
  mail.subject = mail_subject(host, "", what);
  std::string body = "These whitelisted disks have had no good copy for more than stale-after-days = " +
                     std::to_string(config.stale_after_days) + " days:\n\n";
  for (const StaleDisk& d : disks) body += describe(d, now) + "\n";
  body += "\nPlug each of them into " + host +
          " to bring its offsite copy up to date. A disk that is lost or retired: remove its UUID from "
          "'filesystem-ids-and-notification-mail-addresses' in " + config.path + ".\n"
          "This reminder comes at most once a day per disk.\n";
  mail.body = valid_utf8(body);
  return mail;
}

StaleCheck check_stale(const Config& config, const std::string& host, History& history, FileSystem& fs,
                       Mailer& mailer, std::int64_t now) {
  StaleCheck check;
  check.stale = stale_disks(config, history.last_success_per_disk(), now);
  const std::string path = config.state_directory + "/" + kStaleAlertsFile;
  StaleAlerts alerts = parse_stale_alerts(fs.read_file(path, kStaleAlertsMaxBytes).value_or(""));
  check.alerted = alerts_due(check.stale, alerts, now);
  if (check.alerted.empty()) return check;
  check.mail = mailer.send(compose_stale_mail(config, host, check.alerted, now));
  if (!check.mail->sent && !check.mail->kept_in_outbox) return check;
  for (const StaleDisk& d : check.alerted) alerts[d.uuid] = now;
  // Disks no longer whitelisted drop out of the record.
  for (auto it = alerts.begin(); it != alerts.end();)
    it = config.find_disk(it->first) ? std::next(it) : alerts.erase(it);
  fs.make_directories(config.state_directory, 0755);
  fs.write_atomic(path, render_stale_alerts(alerts), 0644);
  return check;
}

}  // namespace ubc
