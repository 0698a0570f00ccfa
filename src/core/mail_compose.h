// SPDX-License-Identifier: MIT
// What the start and end mails say (DESIGN.md §9). Rendering to RFC 5322 / MIME bytes is
// core/mime.h; sending is the Mailer port.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/report.h"
#include "ports/mailer.h"

namespace ubc {

// Sysops, then the disk's own addresses (To), cc (Cc); duplicates removed, case-insensitive.
Email address_mail(const Config& config, const std::vector<std::string>& disk_mails);

// The SMTP envelope's recipients: To, then Cc, cleaned, duplicates removed (case-insensitive).
std::vector<std::string> envelope_recipients(const Email& mail);

// "disk, how much will be copied, estimated duration" — sent when the copy starts.
Email compose_start_mail(const Config& config, const JobReport& report);
// The outcome; report.run_log attached.
Email compose_end_mail(const Config& config, const JobReport& report);

// As above, with the speed the estimate is based on: the disk's last copy, from the
// history. Without it (nullopt, or the two-argument form) a typical USB 3 disk is assumed.
Email compose_start_mail(const Config& config, const JobReport& report,
                         std::optional<double> expected_bytes_per_second);

// A mail that is not about one run (veeam-lock failing, a stale disk): to the sysops, Cc
// cc, no attachment. The subject (say "backup01: veeam-lock failed: ...") gets the same
// "[usb-backup-copier] " prefix as the run mails.
Email compose_notice(const Config& config, const std::string& subject, const std::string& body);

// The mails' subject line: "[usb-backup-copier] backup01, disk Offsite-3: OK". Untrusted
// parts are made one line (core/mime.h); the result is truncated to a readable length.
std::string mail_subject(const std::string& host, const std::string& disk, const std::string& what);

}  // namespace ubc
