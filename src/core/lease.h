// SPDX-License-Identifier: MIT
// Veeam leases (DESIGN.md §7): the file format, expiry and the choices made on a set of
// leases. The files themselves are handled by sys/lease_directory.
//
// A lease file holds `key=value` lines, so an admin can read one with cat or grep:
//
//   # Veeam lease: written by veeam-lock, removed by veeam-unlock or when it expires
//   job=Daily backup
//   host=repo1
//   pid=4242
//   created=1795395600
//   expires=1795482000
//   created-utc=2026-11-23T01:00:00Z
//   expires-utc=2026-11-24T01:00:00Z
//
// `created` and `expires` (unix seconds) are what counts; the -utc lines are for people.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/veeam_gate.h"

namespace ubc {

// Files of the lease directory that are not leases.
inline constexpr std::string_view kLeaseSuffix = ".lease";
// Held flock'ed (shared) by every copier while it reads the repository; its content (pid,
// disk) is only informational, the lock is what counts. Never deleted: a lock file that
// is unlinked while someone waits for it splits the lock in two.
inline constexpr std::string_view kCopierMarkerName = "copier.active";
// The coordination file's name when veeam-lockfile-path is not set.
inline constexpr std::string_view kCoordinationFileName = "coordination.lock";
inline constexpr std::string_view kDefaultJobName = "default";

// Why a job name cannot be used (empty, too long, control characters, leading '-' or
// blanks at either end), or nullopt when it is fine. Names travel through ssh, lease files
// and log lines, hence the limits; spaces and non-ASCII letters are allowed.
std::optional<std::string> job_name_problem(std::string_view job);

// A new lease, created now and expiring after ttl_hours.
Lease make_lease(std::string job, std::string host, int pid, std::int64_t now, int ttl_hours);

// The file content; parse_lease(format_lease(l)) gives l back (file aside).
std::string format_lease(const Lease& lease);

struct LeaseParse {
  std::optional<Lease> lease;
  std::string error;  // why there is no lease
};
// Reads a lease file's content. Blank lines, `#` comments and unknown keys are skipped
// (later versions may add keys); job, created and expires are required.
LeaseParse parse_lease(std::string_view text, std::string file_name);

// "1795395600-Daily_backup-4242-1a2b3c4d.lease": sorts by creation, shows the job to
// someone listing the directory, and cannot collide (pid and a random nonce).
std::string lease_file_name(const Lease& lease, std::string_view nonce);
// Lease files end in ".lease" and do not start with '.' (temporary files do).
bool is_lease_file_name(std::string_view name);

bool is_expired(const Lease& lease, std::int64_t now);

struct LeasesByExpiry {
  std::vector<Lease> live;
  std::vector<Lease> expired;
};
LeasesByExpiry split_by_expiry(std::vector<Lease> leases, std::int64_t now);

// Live leases per job name: overlapping runs each hold one.
std::map<std::string, int> count_by_job(const std::vector<Lease>& leases);

// The lease of `job` that veeam-unlock removes: the oldest (lowest created, then file
// name). Any lease of the job would do for counting; the oldest is the one closest to
// expiring, so the lease that stays is the one with the most time left.
std::optional<Lease> lease_to_remove(const std::vector<Lease>& leases, std::string_view job);

// "'Daily' (2 leases), 'Weekly'" — for log lines and messages.
std::string summarize_jobs(const std::vector<Lease>& leases);

// "job 'Daily' from repo1 (pid 4242), created 2026-11-23T01:00:00Z, expires
// 2026-11-24T01:00:00Z (in 23 h 59 min)".
std::string describe_lease(const Lease& lease, std::int64_t now);

}  // namespace ubc
