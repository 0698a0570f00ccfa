// SPDX-License-Identifier: MIT
// What the disk itself says about its copy: <disk>/.usb-backup-copier/state.json. Whoever
// restores from the disk reads it to know whether the copy is whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ubc {

inline constexpr const char* kDiskStateDir = ".usb-backup-copier";
inline constexpr const char* kDiskStateFile = ".usb-backup-copier/state.json";
inline constexpr const char* kDiskRunLogFile = ".usb-backup-copier/last-run.log";
// state.json is small; anything bigger in its place is not ours.
inline constexpr std::uint64_t kDiskStateMaxBytes = 1 << 20;

// One complete copy kept on the disk (restore-points >= 2), in /<name>/ (DESIGN.md §5).
struct RestorePoint {
  std::string name;  // its directory: the run's start, UTC, "2026-11-29T184219Z"
  std::int64_t started_at = 0;
  std::uint64_t files = 0;  // regular files in it
  std::uint64_t bytes = 0;  // their sizes (hard-linked files count in every point)
  bool verified = false;  // read back and compared with the source when it was made
  bool operator==(const RestorePoint&) const = default;
};

struct DiskState {
  // "in-progress" while copying (and after a crash mid-copy), "complete" after a good
  // copy, "incomplete" after a copy that was stopped or failed.
  std::string state;
  std::string source_host;
  std::string source;
  std::int64_t started_at = 0;
  std::int64_t finished_at = 0;  // 0 while in progress
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  std::string reason;  // why it is incomplete
  std::string tool_version;
  // The last copy that completed, kept across later incomplete runs.
  std::int64_t last_complete_at = 0;
  // With restore points: every complete copy on the disk, oldest first; the last is the
  // newest, which /latest names. Empty on a mirror disk.
  std::vector<RestorePoint> restore_points;
};

std::string to_json(const DiskState& state);
std::optional<DiskState> disk_state_from_json(const std::string& json);
// A restore point's own record, <point>/.usb-backup-copier/point.json.
std::string to_json(const RestorePoint& point);
std::optional<RestorePoint> restore_point_from_json(const std::string& json);
// A list of restore points as the run history stores it: a JSON array of records.
std::string to_json(const std::vector<RestorePoint>& points);
std::vector<RestorePoint> restore_points_from_json(const std::string& json);

}  // namespace ubc
