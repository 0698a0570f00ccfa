// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/disk_state.h"
#include "core/report.h"

namespace ubc {

struct HistoryVerification {
  std::uint64_t files = 0;  // read back and compared
  std::uint64_t bytes = 0;  // read back
  std::uint64_t mismatches = 0;  // differing, unreadable or missing files
  std::int64_t seconds = 0;
};

struct HistoryRow {
  std::string uuid;
  std::string label;
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;
  std::string outcome;  // to_string(Outcome)
  std::string reason;
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  std::int64_t free_bytes_after = -1;  // -1: unknown
  std::string warnings;  // one per line
  std::string action = "copy";  // "copy" or "verify"
  std::optional<HistoryVerification> verification;  // nothing was read back
  std::int64_t id = 0;  // the row's id in the history; names its log (History::run_log)
};

// The restore points a disk held when a run last looked (restore-points >= 2). The disks
// are offsite: this is all the server knows of them between plugs.
struct DiskRestorePoints {
  std::string uuid;
  std::int64_t seen_at = 0;  // the end of the run that saw them
  std::vector<RestorePoint> points;  // oldest first; the last is the newest
};

// One row per run (state-directory/history.db).
class History {
 public:
  virtual ~History() = default;
  virtual void record(const JobReport& report) = 0;
  // The newest run of every disk, newest first.
  virtual std::vector<HistoryRow> last_run_per_disk() = 0;
  // The newest good copy (outcome success or warning, action copy) of every disk, newest
  // first: the run a restore would rely on, which the newest run need not be.
  virtual std::vector<HistoryRow> last_success_per_disk() = 0;
  // The newest run of every disk that read files back (a copy's verification or `verify`),
  // newest first.
  virtual std::vector<HistoryRow> last_verification_per_disk() = 0;
  // Per disk, the list of the newest run that saw restore points on it, newest run first;
  // mirror disks have none.
  virtual std::vector<DiskRestorePoints> restore_points_per_disk() = 0;
  // Newest first, at most limit rows.
  virtual std::vector<HistoryRow> recent(int limit) = 0;
  // The log of run `id` as it was stored (see cap_run_log); nullopt when there is no such
  // run or it has no log (runs recorded before logs were kept).
  virtual std::optional<std::string> run_log(std::int64_t id) = 0;
};

}  // namespace ubc
