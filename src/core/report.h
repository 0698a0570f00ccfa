// SPDX-License-Identifier: MIT
// The outcome model of one run: what the mail, the status file, the disk's state.json and
// the history all read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/disk_state.h"
#include "ports/device_finder.h"

namespace ubc {

enum class Outcome {
  success,          // copy complete, no warnings
  warning,          // copy complete, with warnings
  failed,           // the job stopped because something went wrong
  aborted,          // stopped from outside (SIGTERM, disk pulled out)
  gave_up,          // waited too long for Veeam or the queue (exit 75)
  not_whitelisted,  // not our disk: nothing touched (exit 0)
  already_running,  // the same disk has a job already (exit 0)
};

const char* to_string(Outcome outcome);

// What the dry run said.
struct Estimate {
  std::uint64_t bytes_to_copy = 0;  // "Total transferred file size"
  std::uint64_t files_to_copy = 0;  // regular files transferred
  std::uint64_t files_total = 0;    // "Number of files" in the source
  std::uint64_t files_to_delete = 0;
  std::uint64_t largest_file = 0;   // room for rsync's temporary copy
  std::uint64_t bytes_to_delete = 0;  // freed on the disk before anything is written
};

// What was read back and compared (DESIGN.md §4 step 9, and the `verify` command).
struct VerificationReport {
  std::string mode;  // "written", "all" (a copy's read-back) or "manifest" (`verify`)
  std::uint64_t files_checked = 0;  // read back from the disk and compared
  std::uint64_t bytes_read = 0;     // read back from the disk
  std::uint64_t files_kept = 0;     // unchanged since their sums were taken: not read again
  std::uint64_t mismatches = 0;     // differ from the source (or the manifest), or unreadable
  std::uint64_t missing = 0;        // `verify`: listed in the manifest, not on the disk
  std::uint64_t unlisted = 0;       // `verify`: on the disk, not in the manifest
  std::vector<std::string> problems;  // the first kMaxListedProblems, "'path': what"
  std::int64_t seconds = 0;

  static constexpr std::size_t kMaxListedProblems = 20;
  bool failed() const { return mismatches > 0 || missing > 0; }
  void add_problem(std::string text) {
    if (problems.size() < kMaxListedProblems) problems.push_back(std::move(text));
  }
  // "'a': differs, 'b': missing (and 3 more)"
  std::string problem_summary(std::uint64_t total) const;
};

enum class JobAction { copy, verify };

struct JobReport {
  JobAction action = JobAction::copy;
  std::string host;  // this server
  BlockDevice disk;
  std::vector<std::string> disk_mails;
  std::string source;
  std::string mount_point;

  Outcome outcome = Outcome::failed;
  std::string reason;  // one line: what happened
  std::string advice;  // what to do about it; may be empty
  std::vector<std::string> warnings;

  std::int64_t started_at = 0;   // unix seconds
  std::int64_t finished_at = 0;
  std::optional<Estimate> estimate;
  // Expected duration of the copy, from this disk's last run (start mail); may be unknown.
  std::optional<std::int64_t> estimated_seconds;
  std::uint64_t bytes_copied = 0;
  std::uint64_t files_copied = 0;
  std::optional<std::uint64_t> free_bytes_after;
  std::optional<VerificationReport> verification;
  int veeam_pauses = 0;
  bool copy_started = false;  // the disk was written to
  bool unmounted = false;     // safe to unplug
  bool synced_only = false;   // unmount failed; data was synced instead
  // restore-points >= 2: the complete restore points on the disk as the run left them,
  // oldest first (the last is `latest`). Empty on a mirror disk.
  std::vector<RestorePoint> restore_points;
  std::string run_log;        // the run's log, as attached to the mail
};

// 0, 1 or 75 as DESIGN.md §3 says.
int exit_code(const JobReport& report);

}  // namespace ubc
