// SPDX-License-Identifier: MIT
// Disk enrollment (DESIGN.md §10): anyone can make a filesystem with a whitelisted UUID and
// label, so a disk proves it is ours with a random secret that `enroll` wrote onto it and
// whose SHA-256 only this server keeps. The copy job checks it right after mounting, before
// anything is written; `enroll` writes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "ports/device_finder.h"
#include "ports/enrollment_store.h"
#include "ports/file_system.h"
#include "ports/mailer.h"

namespace ubc {

// The secret on the disk, relative to its root: 64 hex digits and a newline.
inline constexpr const char* kEnrollmentFile = ".usb-backup-copier/enrollment";
// Read from a hostile disk: anything bigger is not a secret we wrote.
inline constexpr std::uint64_t kEnrollmentMaxBytes = 1024;

// a == b, in a time that depends on the lengths only, never on where they first differ:
// a disk must not learn the stored digest byte by byte from how fast it is refused.
bool equal_in_constant_time(std::string_view a, std::string_view b);

struct EnrollmentCheck {
  enum class Kind {
    passed,          // enrolled, and the disk carries the secret
    not_enrolled,    // this server has no record of the disk
    secret_missing,  // enrolled, but the disk has no secret
    secret_wrong,    // enrolled, and the disk's secret does not match (or is no file)
  };
  Kind kind = Kind::not_enrolled;
  std::optional<Enrollment> record;
  std::string detail;  // secret_wrong: why, for the admins
};

// Reads the secret of the disk mounted at mount_point (through fs: O_NOFOLLOW, a regular
// file, kEnrollmentMaxBytes at most) and compares its digest with the stored one. Errors of
// the store throw; a disk whose secret cannot be read counts as secret_wrong.
EnrollmentCheck check_enrollment(FileSystem& fs, EnrollmentStore& store, const std::string& uuid,
                                 const std::string& mount_point);

// What the copy job makes of a check.
struct EnrollmentDecision {
  bool refuse = false;  // unmount untouched, the run failed
  bool alert = false;   // mail the admins at once (compose_enrollment_alert)
  bool warn = false;    // a warning in the run's report (else an info line)
  std::string message;  // the log line, and the run's reason when refused
  std::string advice;   // what to do, when refused
};

// require: require-enrollment. A wrong secret is refused whatever it says: a disk that
// carries a secret we did not write is not a disk we forgot to enroll.
EnrollmentDecision decide_enrollment(const EnrollmentCheck& check, bool require, const BlockDevice& disk);

// The security mail to the sysops (and cc) about a refused or suspicious disk.
Email compose_enrollment_alert(const Config& config, const std::string& host, const BlockDevice& disk,
                               const EnrollmentDecision& decision);

// "'Offsite-3' (0a1b-...)", or "(no label) (0a1b-...)": the disk as the messages name it.
std::string claimed_disk_name(const BlockDevice& disk);

}  // namespace ubc
