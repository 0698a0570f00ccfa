// SPDX-License-Identifier: MIT
#include "core/mail_compose.h"

#include <algorithm>

#include "core/format.h"
#include "core/mime.h"
#include "core/text.h"

namespace ubc {
namespace {

constexpr std::size_t kSuccessBodyLines = 10;  // read at a glance, on a phone too
constexpr std::size_t kMaxSubjectBytes = 160;
constexpr std::size_t kMaxListedWarnings = 20;  // the rest is in the attached log
constexpr double kAssumedBytesPerSecond = 100.0 * 1024 * 1024;  // a USB 3 hard disk
constexpr const char* kSubjectPrefix = "[usb-backup-copier] ";

// Appends the addresses not yet in `seen` (case-insensitive), keeping their order.
void add_unique(std::vector<std::string>& out, std::vector<std::string>& seen,
                const std::vector<std::string>& addresses) {
  for (const auto& raw : addresses) {
    const std::string address = clean_address(raw);
    if (address.empty()) continue;
    const std::string key = lower(address);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    out.push_back(address);
  }
}

// Cuts at a character boundary and marks the cut.
std::string truncate_utf8(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

std::string disk_name(const JobReport& r) {
  if (auto label = one_line(r.disk.label); !label.empty()) return label;
  if (auto uuid = one_line(r.disk.uuid); !uuid.empty()) return uuid;
  return one_line(r.disk.devnode);
}

std::string disk_line(const JobReport& r) {
  const std::string label = one_line(r.disk.label);
  const std::string uuid = one_line(r.disk.uuid);
  const std::string devnode = one_line(r.disk.devnode);
  std::string details = uuid.empty() ? "" : "UUID " + uuid;
  if (!devnode.empty()) details += (details.empty() ? "" : ", ") + devnode;
  if (label.empty()) return "Disk: " + (uuid.empty() ? devnode : uuid + (devnode.empty() ? "" : " (" + devnode + ")"));
  return "Disk: " + label + (details.empty() ? "" : " (" + details + ")");
}

std::int64_t duration_of(const JobReport& r) {
  return r.finished_at > r.started_at ? r.finished_at - r.started_at : 0;
}

bool is_complete(Outcome outcome) {
  return outcome == Outcome::success || outcome == Outcome::warning;
}

// The subject's verdict: OK, WARNING, FAILED: <reason>.
std::string verdict(const JobReport& r) {
  const std::string reason = one_line(r.reason);
  const auto with_reason = [&](const char* word) {
    return reason.empty() ? std::string(word) : std::string(word) + ": " + reason;
  };
  switch (r.outcome) {
    case Outcome::success: return "OK";
    case Outcome::warning: return "WARNING";
    case Outcome::not_whitelisted:
    case Outcome::already_running: return with_reason("SKIPPED");
    case Outcome::failed:
    case Outcome::aborted:
    case Outcome::gave_up: break;
  }
  return with_reason("FAILED");
}

std::string unplug_line(const JobReport& r) {
  const std::string mount = one_line(r.mount_point);
  if (r.unmounted) return "The disk is unmounted: safe to unplug.";
  if (r.synced_only) {
    return "Unmounting failed, but the data was synced to the disk: unmount it by hand "
           "(umount '" + mount + "') before unplugging.";
  }
  if (mount.empty()) return "The disk is not known to be unmounted: check before unplugging it.";
  return "The disk is not known to be unmounted: check with 'findmnt " + mount +
         "' and unmount it before unplugging.";
}

std::string copied_line(const JobReport& r, const char* label) {
  if (r.bytes_copied == 0 && r.files_copied == 0) {
    return std::string(label) + ": nothing" +
           (is_complete(r.outcome) ? "; the disk was already up to date" : "");
  }
  return std::string(label) + ": " + format_bytes(r.bytes_copied) + " in " +
         count_of(r.files_copied, "file", "files");
}

// "Verified: 12 files (3.0 GiB) read back from the disk, all equal; 40 unchanged" and the like.
std::string verified_line(const JobReport& r) {
  if (!r.verification) return "Verified: nothing read back (verify = none)";
  const VerificationReport& v = *r.verification;
  std::string line = "Verified: " + count_of(v.files_checked, "file", "files") + " (" + format_bytes(v.bytes_read) +
                     ") read back from the disk in " + format_duration(v.seconds);
  if (v.mismatches + v.missing > 0)
    line += ", " + count_of(v.mismatches, "mismatch", "mismatches") +
            (v.missing > 0 ? ", " + count_of(v.missing, "file", "files") + " missing" : "");
  else
    line += ", all equal";
  if (v.mode != "manifest") line += "; " + count_of(v.files_kept, "unchanged file keeps its", "unchanged files keep their") + " sum";
  if (v.mode == "manifest" && v.unlisted > 0) line += "; " + count_of(v.unlisted, "file", "files") + " not in the manifest";
  return line;
}

// "Restore points (oldest first): 2026-11-27T020000Z 3.40 GiB, ..., 2026-11-29T020000Z 3.42 GiB (latest)".
// Each point's size is its files' (hard-linked ones count in every point).
std::string restore_points_line(const JobReport& r) {
  std::vector<std::string> points;
  for (const RestorePoint& p : r.restore_points) points.push_back(p.name + " " + format_bytes(p.bytes));
  return "Restore points (oldest first): " + join(points, ", ") + " (latest)";
}

std::string free_space_line(const JobReport& r) {
  return "Free space left: " + (r.free_bytes_after ? format_bytes(*r.free_bytes_after) : "unknown");
}

std::string warnings_count_line(const JobReport& r) {
  return "Warnings: " + (r.warnings.empty() ? std::string("none") : std::to_string(r.warnings.size()));
}

std::string attachment_name(const JobReport& r) {
  const std::string id = uuid_name_chars(r.disk.uuid);
  return "usb-backup-copier-" + (id.empty() ? std::string("run") : id) + ".log";
}

std::string success_body(const JobReport& r) {
  std::vector<std::string> lines;
  if (r.action == JobAction::verify) {
    lines.push_back(std::string(r.outcome == Outcome::success ? "Result: OK." : "Result: WARNING.") +
                    " Every file listed in the disk's checksum manifest matches it.");
  } else if (r.outcome == Outcome::success) {
    lines.push_back("Result: OK. The copy is complete.");
  } else {
    lines.push_back("Result: WARNING. The copy is complete, with " +
                    count_of(r.warnings.size(), "warning", "warnings") + ".");
  }
  lines.push_back(disk_line(r));
  if (r.action == JobAction::copy) lines.push_back(copied_line(r, "Copied"));
  if (!r.restore_points.empty()) lines.push_back(restore_points_line(r));
  lines.push_back(verified_line(r));
  std::string duration = "Duration: " + format_duration(duration_of(r));
  if (r.bytes_copied > 0 && duration_of(r) > 0)
    duration += ", average speed " +
                format_rate(static_cast<double>(r.bytes_copied) / static_cast<double>(duration_of(r)));
  lines.push_back(duration);
  if (r.action == JobAction::copy) lines.push_back(free_space_line(r));
  lines.push_back(warnings_count_line(r));
  lines.push_back(unplug_line(r));
  if (r.veeam_pauses > 0) {
    lines.push_back("Paused " + count_of(static_cast<std::uint64_t>(r.veeam_pauses), "time", "times") +
                    " to let Veeam jobs run.");
  }
  // Warnings fill what is left of the budget; the last free line says what did not fit.
  for (std::size_t i = 0; i < r.warnings.size() && lines.size() < kSuccessBodyLines; ++i) {
    const std::size_t left = r.warnings.size() - i;
    if (left > 1 && lines.size() + 1 == kSuccessBodyLines) {
      lines.push_back("... and " + std::to_string(left) + " more warnings in the attached log.");
      break;
    }
    lines.push_back("Warning: " + one_line(r.warnings[i]));
  }
  return join(lines, "\n") + "\n";
}

std::string failure_body(const JobReport& r) {
  std::vector<std::string> lines;
  lines.push_back(verdict(r));  // the reason first: it is what the reader needs
  if (const std::string advice = one_line(r.advice); !advice.empty()) {
    lines.push_back("");
    lines.push_back("What to do: " + advice);
  }
  lines.push_back("");
  lines.push_back(disk_line(r));
  if (r.verification) lines.push_back(verified_line(r));
  if (r.action == JobAction::verify) {
    lines.push_back("The disk was mounted read-only: nothing on it was changed.");
  } else if (r.copy_started && !r.restore_points.empty()) {
    lines.push_back("The new restore point is incomplete (the next run continues it); the complete ones on the disk "
                    "are untouched.");
    lines.push_back(restore_points_line(r));
    lines.push_back(copied_line(r, "Copied before it stopped"));
  } else if (r.copy_started) {
    lines.push_back("The copy on this disk is incomplete: do not rely on it until a later copy succeeds.");
    lines.push_back(copied_line(r, "Copied before it stopped"));
  } else if (r.outcome != Outcome::not_whitelisted && r.outcome != Outcome::already_running) {
    lines.push_back("Nothing was written to the disk; the copy it holds is unchanged.");
  }
  if (r.estimate) {
    lines.push_back("Planned: " + format_bytes(r.estimate->bytes_to_copy) + " in " +
                    count_of(r.estimate->files_to_copy, "file", "files"));
  }
  lines.push_back("Duration: " + format_duration(duration_of(r)));
  if (r.free_bytes_after) lines.push_back(free_space_line(r));
  lines.push_back(warnings_count_line(r));
  for (std::size_t i = 0; i < r.warnings.size() && i < kMaxListedWarnings; ++i) {
    lines.push_back("Warning: " + one_line(r.warnings[i]));
  }
  if (r.veeam_pauses > 0) {
    lines.push_back("Paused " + count_of(static_cast<std::uint64_t>(r.veeam_pauses), "time", "times") +
                    " to let Veeam jobs run.");
  }
  lines.push_back(unplug_line(r));
  lines.push_back("");
  lines.push_back("The run log is attached.");
  return join(lines, "\n") + "\n";
}

}  // namespace

std::string mail_subject(const std::string& host, const std::string& disk, const std::string& what) {
  std::string subject = kSubjectPrefix + one_line(host);
  if (const std::string d = one_line(disk); !d.empty()) subject += ", disk " + d;
  subject += ": " + one_line(what);
  return truncate_utf8(std::move(subject), kMaxSubjectBytes);
}

Email address_mail(const Config& config, const std::vector<std::string>& disk_mails) {
  Email mail;
  mail.from = clean_address(config.from_mail);
  std::vector<std::string> seen;
  add_unique(mail.to, seen, config.sysop_mails);
  add_unique(mail.to, seen, disk_mails);
  add_unique(mail.cc, seen, config.cc_mails);
  return mail;
}

std::vector<std::string> envelope_recipients(const Email& mail) {
  std::vector<std::string> out;
  std::vector<std::string> seen;
  add_unique(out, seen, mail.to);
  add_unique(out, seen, mail.cc);
  return out;
}

Email compose_start_mail(const Config& config, const JobReport& report) {
  return compose_start_mail(config, report, std::nullopt);
}

Email compose_start_mail(const Config& config, const JobReport& report,
                         std::optional<double> expected_bytes_per_second) {
  Email mail = address_mail(config, report.disk_mails);
  mail.subject = mail_subject(report.host, disk_name(report), "copy started");
  std::vector<std::string> lines;
  lines.push_back("A copy to disk " + disk_name(report) + " has started on " + one_line(report.host) +
                  " at " + format_utc(report.started_at) + ".");
  lines.push_back(disk_line(report));
  if (!report.source.empty()) lines.push_back("Source: " + one_line(report.source));
  if (!report.estimate) {
    lines.push_back("To copy: not estimated");
  } else if (report.estimate->bytes_to_copy == 0 && report.estimate->files_to_copy == 0 &&
             report.estimate->files_to_delete == 0) {
    lines.push_back("To copy: nothing; the disk is already up to date");
  } else {
    const Estimate& e = *report.estimate;
    std::string line = "To copy: " + format_bytes(e.bytes_to_copy) + " in " +
                       count_of(e.files_to_copy, "file", "files");
    if (e.files_to_delete > 0) line += ", " + count_of(e.files_to_delete, "file", "files") + " to delete";
    lines.push_back(line);
    const bool measured = expected_bytes_per_second && *expected_bytes_per_second > 0;
    const double rate = measured ? *expected_bytes_per_second : kAssumedBytesPerSecond;
    const auto seconds = static_cast<std::int64_t>(static_cast<double>(e.bytes_to_copy) / rate);
    lines.push_back("Estimated duration: about " + format_duration(seconds) + " at " +
                    format_rate(rate) +
                    (measured ? " (the speed of this disk's last copy)"
                              : " (assumed: a typical USB 3 hard disk)"));
  }
  lines.push_back("Another mail follows when the copy ends.");
  mail.body = join(lines, "\n") + "\n";
  return mail;
}

Email compose_end_mail(const Config& config, const JobReport& report) {
  Email mail = address_mail(config, report.disk_mails);
  mail.subject = mail_subject(report.host, disk_name(report),
                              (report.action == JobAction::verify ? "verify " : "") + verdict(report));
  mail.body = is_complete(report.outcome) ? success_body(report) : failure_body(report);
  mail.attachment_name = attachment_name(report);
  mail.attachment = report.run_log;
  return mail;
}

Email compose_notice(const Config& config, const std::string& subject, const std::string& body) {
  Email mail = address_mail(config, {});
  std::string line = one_line(subject);
  if (line.rfind(kSubjectPrefix, 0) != 0) line = kSubjectPrefix + line;
  mail.subject = truncate_utf8(std::move(line), kMaxSubjectBytes);
  mail.body = valid_utf8(body);
  return mail;
}

}  // namespace ubc
