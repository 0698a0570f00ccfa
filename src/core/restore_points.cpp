// SPDX-License-Identifier: MIT
#include "core/restore_points.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/rsync.h"

namespace ubc {

std::string restore_point_name(std::int64_t unix_seconds) {
  const std::chrono::sys_seconds t{std::chrono::seconds(unix_seconds)};
  return fmt::format("{:%Y-%m-%dT%H%M%SZ}", t);
}

bool is_restore_point_name(std::string_view name) {
  // YYYY-MM-DDTHHMMSSZ
  constexpr std::string_view shape = "dddd-dd-ddTddddddZ";
  if (name.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (name[i] >= '0' && name[i] <= '9') : name[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

std::string_view source_path_of(std::string_view disk_path) {
  const auto strip = [&](std::string_view dir) -> std::optional<std::string_view> {
    if (disk_path.size() > dir.size() + 1 && disk_path.substr(0, dir.size()) == dir && disk_path[dir.size()] == '/')
      return disk_path.substr(dir.size() + 1);
    return std::nullopt;
  };
  if (const auto inside = strip(kInProgressDir)) return *inside;
  const std::string_view top = disk_path.substr(0, disk_path.find('/'));
  if (is_restore_point_name(top))
    if (const auto inside = strip(top)) return *inside;
  const std::string_view deleting = kDeletingPrefix;
  if (disk_path.substr(0, deleting.size()) == deleting) {
    const std::string_view dir = disk_path.substr(0, disk_path.find('/', deleting.size()));
    if (const auto inside = strip(dir)) return *inside;
  }
  return disk_path;
}

bool restore_points_possible(std::string_view kernel_fstype) { return fs_has_unix_ownership(kernel_fstype); }

std::string describe_restore_points(int configured) {
  if (configured < 2) return "1: the disk's root mirrors the source";
  return std::to_string(configured) +
         " on ext4, xfs and btrfs disks; vfat, exfat and ntfs disks will mirror the source (restore points "
         "need a Unix filesystem)";
}

std::vector<RestorePoint> sorted_points(std::vector<RestorePoint> points) {
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  points.erase(std::unique(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.name == b.name; }),
               points.end());
  return points;
}

RetentionChoice choose_retention(std::size_t points, int keep, std::uint64_t needed, std::uint64_t free_bytes,
                                 const std::function<std::uint64_t(std::size_t)>& freed_by_oldest) {
  RetentionChoice choice;
  if (points == 0) {
    choice.fits = needed <= free_bytes;
    return choice;
  }
  const std::size_t old_allowed = keep > 1 ? static_cast<std::size_t>(keep - 1) : 0;
  const std::size_t at_least = points > old_allowed ? points - old_allowed : 0;
  // points - 1 at most: the newest complete copy stays, whatever the space.
  for (std::size_t k = std::min(at_least, points - 1); k <= points - 1; ++k) {
    choice.remove = k;
    choice.freed = k == 0 ? 0 : freed_by_oldest(k);
    if (free_bytes + choice.freed >= needed) {
      choice.fits = true;
      return choice;
    }
  }
  choice.fits = false;
  return choice;
}

}  // namespace ubc
