// SPDX-License-Identifier: MIT
// Restore points (DESIGN.md §5): the decisions about the disk's dated copies, apart from
// the job that carries them out. Layout on a disk with restore-points >= 2:
//   /<YYYY-MM-DDTHHMMSSZ>/                        a complete copy, named by its run's start (UTC)
//   /<YYYY-MM-DDTHHMMSSZ>/.usb-backup-copier/     its SHA256SUMS, SHA256SUMS.stamps, point.json
//   /latest -> <YYYY-MM-DDTHHMMSSZ>               the newest complete copy
//   /.usb-backup-copier/in-progress/              the copy being made (continued after a stop)
//   /.usb-backup-copier/state.json                the disk's state, every restore point listed
// A directory is a restore point only with its point.json, written just before the rename
// that completes it: a half-made copy can never be taken for a complete one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/disk_state.h"

namespace ubc {

inline constexpr const char* kInProgressDir = ".usb-backup-copier/in-progress";
inline constexpr const char* kLatestLink = "latest";
// Inside a restore point (or in-progress): the point's own record.
inline constexpr const char* kPointRecordFile = ".usb-backup-copier/point.json";
// Where a restore point goes while it is deleted, so that a deletion cut short never
// leaves a partial copy under a restore point's name.
inline constexpr const char* kDeletingPrefix = ".usb-backup-copier/deleting-";

// "2026-11-29T184219Z" for the run's start (Unix seconds, UTC).
std::string restore_point_name(std::int64_t unix_seconds);
// Exactly the shape restore_point_name makes; everything else at the disk's root is not one.
bool is_restore_point_name(std::string_view name);

// Where an entry of the disk (a path relative to its root) comes from in the source: inside
// a restore point, the in-progress copy or a point being deleted, what follows that
// directory; anything else (a mirror's entries) is the same path.
std::string_view source_path_of(std::string_view disk_path);

// ext4, xfs, btrfs: hard links, owners and modes. vfat, exfat, ntfs3: none, so mirrored.
bool restore_points_possible(std::string_view kernel_fstype);

// check-config's line: what restore-points = n does.
std::string describe_restore_points(int configured);

// Sorts oldest first (the names sort as their times do) and leaves out duplicates.
std::vector<RestorePoint> sorted_points(std::vector<RestorePoint> points);

// Retention before a copy. points: the complete ones on the disk (at least 1), oldest
// first; keep: restore-points. At most keep - 1 old points stay beside the new one; beyond
// that, the oldest go as long as the copy (needed bytes) does not fit in free space. The
// newest is never removed. freed_by_oldest(k) says what removing the k oldest would free.
struct RetentionChoice {
  std::size_t remove = 0;   // the oldest this many go
  bool fits = false;        // false: not even removing every old one makes room
  std::uint64_t freed = 0;  // what removing them frees (all old ones when !fits)
};
RetentionChoice choose_retention(std::size_t points, int keep, std::uint64_t needed, std::uint64_t free_bytes,
                                 const std::function<std::uint64_t(std::size_t)>& freed_by_oldest);

}  // namespace ubc
