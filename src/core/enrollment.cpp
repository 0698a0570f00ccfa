// SPDX-License-Identifier: MIT
#include "core/enrollment.h"

#include <system_error>

#include "core/format.h"
#include "core/mail_compose.h"
#include "core/mime.h"
#include "core/text.h"

namespace ubc {

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // digests have one length: this leaks nothing
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  // volatile: the compiler must not turn the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return result == 0;
}

EnrollmentCheck check_enrollment(FileSystem& fs, EnrollmentStore& store, const std::string& uuid,
                                 const std::string& mount_point) {
  EnrollmentCheck check;
  check.record = store.find(uuid);
  if (!check.record) {
    check.kind = EnrollmentCheck::Kind::not_enrolled;
    return check;
  }
  std::optional<std::string> secret;
  try {
    secret = fs.read_file(mount_point + "/" + kEnrollmentFile, kEnrollmentMaxBytes);
  } catch (const std::system_error& e) {
    // A link, FIFO, device node or huge file in its place: not something we wrote.
    check.kind = EnrollmentCheck::Kind::secret_wrong;
    check.detail = std::string("its enrollment secret could not be read (") + e.what() + ")";
    return check;
  }
  if (!secret) {
    check.kind = EnrollmentCheck::Kind::secret_missing;
    return check;
  }
  const std::string digest = store.digest(std::string(trim(*secret)));
  if (equal_in_constant_time(digest, check.record->secret_sha256)) {
    check.kind = EnrollmentCheck::Kind::passed;
  } else {
    check.kind = EnrollmentCheck::Kind::secret_wrong;
    check.detail = "its enrollment secret does not match the one this server enrolled it with";
  }
  return check;
}

std::string claimed_disk_name(const BlockDevice& disk) {
  const std::string label = one_line(disk.label);
  return (label.empty() ? std::string("(no label)") : quoted(label)) + " (" + one_line(disk.uuid) + ")";
}

EnrollmentDecision decide_enrollment(const EnrollmentCheck& check, bool require, const BlockDevice& disk) {
  using Kind = EnrollmentCheck::Kind;
  EnrollmentDecision d;
  const std::string claimed = "A disk claiming to be " + claimed_disk_name(disk);
  const std::string enroll = "usb-backup-copier enroll --device " + disk.devnode;
  d.advice = "If it is ours, run '" + enroll + "', then plug it in again; if it is not, find out who "
             "plugged it in. Nothing was written to it";
  switch (check.kind) {
    case Kind::passed:
      d.message = "The disk's enrollment secret matches (enrolled " + format_utc(check.record->enrolled_at) + ")";
      return d;
    case Kind::not_enrolled:
      if (!require) {
        d.message = "The disk is not enrolled; it is copied to because require-enrollment = no";
        return d;
      }
      d.refuse = d.alert = true;
      d.message = claimed + " was refused: it was never enrolled on this server (require-enrollment = yes)";
      return d;
    case Kind::secret_missing:
      d.alert = true;
      if (require) {
        d.refuse = true;
        d.message = claimed + " was refused: its enrollment secret is missing (it was enrolled " +
                    format_utc(check.record->enrolled_at) + ")";
        return d;
      }
      d.warn = true;
      d.message = claimed + " carries no enrollment secret although it was enrolled " +
                  format_utc(check.record->enrolled_at) +
                  "; it is copied to only because require-enrollment = no. If it was reformatted, run '" +
                  enroll + "'; if it is not ours, the backups are now on a stranger's disk";
      return d;
    case Kind::secret_wrong:
      d.refuse = d.alert = true;
      d.message = claimed + " was refused: " + check.detail;
      return d;
  }
  return d;
}

Email compose_enrollment_alert(const Config& config, const std::string& host, const BlockDevice& disk,
                               const EnrollmentDecision& decision) {
  const std::string what = decision.refuse ? "refused" : "copied to WITHOUT its enrollment secret";
  std::string body = decision.message + ".\n\n";
  body += "Server: " + one_line(host) + "\n";
  body += "Device: " + one_line(disk.devnode) + "\n";
  body += "Filesystem UUID: " + one_line(disk.uuid) + "\n";
  body += "Label: " + (disk.label.empty() ? std::string("(none)") : one_line(disk.label)) + "\n\n";
  body += "Anyone can make a filesystem with a whitelisted UUID and label; only the secret that "
          "'usb-backup-copier enroll' wrote onto a disk proves that it is one of ours.\n";
  if (decision.refuse) body += decision.advice + ".\n";
  return compose_notice(config, one_line(host) + ": SECURITY: disk " + claimed_disk_name(disk) + " " + what,
                        body);
}

}  // namespace ubc
