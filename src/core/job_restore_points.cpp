// SPDX-License-Identifier: MIT
// The copy job's part in restore points (DESIGN.md §5; layout in core/restore_points.h):
// where the copy goes, the mirror moved into a first restore point, room made by deleting
// the oldest, and the rename that makes a verified copy a restore point.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "core/disk_state.h"
#include "core/format.h"
#include "core/job.h"
#include "core/restore_points.h"
#include "core/rsync.h"
#include "core/text.h"

namespace ubc {

namespace {

constexpr const char* kMigratingDir = ".usb-backup-copier/migrating";

}  // namespace

std::vector<RestorePoint> Job::find_restore_points() {
  const std::string& dest = config_.backup_destination;
  std::vector<RestorePoint> points;
  for (const std::string& name : ports_.fs.list_entries(dest)) {
    if (!is_restore_point_name(name) || ports_.fs.kind(dest + "/" + name) != PathKind::directory) continue;
    // Anything on the disk is hostile: a record that is missing, odd or for another name
    // makes the directory no restore point; it is neither linked to nor deleted.
    std::optional<RestorePoint> point;
    try {
      if (const auto text = ports_.fs.read_file(dest + "/" + name + "/" + kPointRecordFile, kDiskStateMaxBytes))
        point = restore_point_from_json(*text);
    } catch (const std::system_error& e) {
      log_->warn("The record of '{}' cannot be read: {}", name, e.what());
    }
    if (point && point->name == name)
      points.push_back(std::move(*point));
    else
      warn("'" + name + "' on the disk looks like a restore point but has no valid '" + kPointRecordFile +
           "'; it is left alone (not linked to, not deleted)");
  }
  return sorted_points(std::move(points));
}

Job::State Job::prepare_restore_points() {
  const std::string& dest = config_.backup_destination;
  points_ = find_restore_points();
  if (config_.restore_points < 2) {
    if (!points_.empty())
      return stop(Outcome::failed,
                  "The disk holds " + count_of(points_.size(), "restore point", "restore points") +
                      " (the newest '" + points_.back().name +
                      "'), but restore-points = 1 would mirror the source onto the disk's root beside them; "
                      "the disk was left untouched",
                  "Set restore-points = " + std::to_string(std::max<std::size_t>(points_.size(), 2)) +
                      " (or more) in [Backup], or move the restore points off the disk");
    return State::estimate;
  }
  if (!restore_points_possible(*kernel_fstype(disk_.fstype))) {
    points_.clear();
    warn("Restore points need a Unix filesystem; mirroring: the disk's " + disk_.fstype +
         " filesystem cannot hold hard links (restore-points = " + std::to_string(config_.restore_points) +
         " applies to ext4, xfs and btrfs disks)");
    return State::estimate;
  }
  restore_points_ = true;
  // A deletion cut short by a stop: finish it, it is no restore point any more.
  const std::string own_dir = dest + "/" + kDiskStateDir;
  const bool has_own_dir = ports_.fs.kind(own_dir) == PathKind::directory;
  for (const std::string& name : has_own_dir ? ports_.fs.list_entries(own_dir) : std::vector<std::string>{}) {
    const std::string own = std::string(kDiskStateDir) + "/" + name;
    if (own.rfind(kDeletingPrefix, 0) == 0) {
      (void)ports_.fs.remove_tree(dest + "/" + own);
      log_->info("Finished deleting '{}'", own);
    }
  }
  if (points_.empty())
    if (auto first = migrate_mirror()) points_.push_back(std::move(*first));
  report_.restore_points = points_;
  copy_root_ = dest + "/" + kInProgressDir;
  if (!points_.empty()) link_dest_ = dest + "/" + points_.back().name;
  log_->info("Restore points on the disk: {}{}", points_.size(),
             points_.empty() ? "" : " (newest '" + points_.back().name + "'); unchanged files are hard-linked to it");
  if (ports_.fs.kind(copy_root_) == PathKind::directory)
    log_->info("Continuing the unfinished copy in '{}'", copy_root_);
  return State::estimate;
}

// The first run with restore points on a disk holding a complete mirror: its entries are
// renamed (nothing copied) into a staging directory the copy never touches, its manifest
// and record put beside them, and only then is the whole renamed to its date. A stop
// half-way leaves the staging directory, and the next run carries on from there.
std::optional<RestorePoint> Job::migrate_mirror() {
  const std::string& dest = config_.backup_destination;
  const std::string staging = dest + "/" + kMigratingDir;
  std::optional<DiskState> state;
  if (const auto text = ports_.fs.read_file(dest + "/" + kDiskStateFile, kDiskStateMaxBytes))
    state = disk_state_from_json(*text);
  const bool resuming = ports_.fs.kind(staging) == PathKind::directory;
  if (!state || (!resuming && state->state != "complete")) return std::nullopt;
  std::vector<std::string> entries;
  for (const std::string& name : ports_.fs.list_entries(dest))
    if (std::find(disk_own_entries().begin(), disk_own_entries().end(), name) == disk_own_entries().end())
      entries.push_back(name);
  if (entries.empty() && !resuming) return std::nullopt;

  RestorePoint point;
  point.started_at = state->last_complete_at ? state->last_complete_at : state->finished_at;
  point.name = restore_point_name(point.started_at);
  log_->info("Moving the disk's mirror (complete at {}) into its first restore point '{}'",
             format_utc(point.started_at), point.name);
  ports_.fs.make_directories(staging + "/" + kDiskStateDir, 0755);
  for (const std::string& name : entries) ports_.fs.rename_no_replace(dest + "/" + name, staging + "/" + name);
  for (const char* file : {kManifestStampFile, kManifestFile})
    if (ports_.fs.kind(dest + "/" + file) == PathKind::file) ports_.fs.rename_no_replace(dest + "/" + file, staging + "/" + file);
  point.verified = ports_.fs.kind(staging + "/" + kManifestFile) == PathKind::file;
  ports_.fs.walk_files(staging, disk_own_entries(), [&](const std::string&, const FileStamp& stamp) {
    ++point.files;
    point.bytes += stamp.size;
  });
  ports_.fs.write_atomic(staging + "/" + kPointRecordFile, to_json(point), 0644);
  ports_.fs.rename_no_replace(staging, dest + "/" + point.name);
  ports_.fs.replace_symlink(dest + "/" + kLatestLink, point.name);
  state->restore_points = {point};
  ports_.fs.write_atomic(dest + "/" + kDiskStateFile, to_json(*state), 0644);
  log_->info("The mirror is now restore point '{}' ({} in {}); nothing was copied", point.name,
             format_bytes(point.bytes), count_of(point.files, "file", "files"));
  return point;
}

std::pair<std::uint64_t, std::uint64_t> Job::files_at_risk(const Estimate& e) {
  if (!restore_points_)
    return {e.files_to_delete > 0 ? ports_.fs.count_files_recursive(config_.backup_destination, disk_own_entries()) : 0,
            e.files_to_delete};
  // The new copy starts empty, so rsync deletes nothing; what it would lose is what the
  // newest restore point holds and the source no longer does.
  if (link_dest_.empty()) return {0, 0};
  std::uint64_t on_disk = 0, gone = 0;
  ports_.fs.walk_files(link_dest_, disk_own_entries(), [&](const std::string& path, const FileStamp&) {
    ++on_disk;
    if (ports_.fs.kind(config_.backup_source + "/" + path) == PathKind::missing) ++gone;
  });
  log_->info("The newest restore point holds {}; {} no longer in the source", count_of(on_disk, "file", "files"),
             std::to_string(gone));
  return {on_disk, gone};
}

void Job::remove_restore_point(const RestorePoint& point) {
  const std::string& dest = config_.backup_destination;
  // Renamed first: from then on it is no restore point, however far the deletion gets.
  const std::string doomed = dest + "/" + kDeletingPrefix + point.name;
  ports_.fs.rename_no_replace(dest + "/" + point.name, doomed);
  (void)ports_.fs.remove_tree(doomed);
  log_->info("Deleted the oldest restore point '{}'", point.name);
}

Job::State Job::check_space_for_restore_point() {
  const Estimate& e = estimate_;
  const std::string& dest = config_.backup_destination;
  const SpaceInfo space = ports_.fs.space(dest);
  // No room for a second version of a changed file: the old one lives in the older
  // restore point, and the new one is written into in-progress once.
  const std::uint64_t needed = e.bytes_to_copy + space_margin(e);
  const std::uint64_t free_bytes = space.free_bytes + e.bytes_to_delete;
  const auto freed_by_oldest = [&](std::size_t k) {
    std::vector<std::string> roots;
    for (std::size_t i = 0; i < k; ++i) roots.push_back(dest + "/" + points_[i].name);
    return ports_.fs.bytes_freed_by_removing(roots);
  };
  const RetentionChoice choice = choose_retention(points_.size(), config_.restore_points, needed, free_bytes, freed_by_oldest);
  log_->info("Space: {} needed for the new restore point (with {} margin), {} free on the disk", format_bytes(needed),
             format_bytes(space_margin(e)), format_bytes(free_bytes));
  if (!choice.fits) {
    const std::size_t old = points_.empty() ? 0 : points_.size() - 1;
    std::string reason = "Not enough space on the disk for a new restore point: it needs " + format_bytes(needed) +
                         " (" + std::to_string(needed) + " bytes), the disk has " + format_bytes(free_bytes) + " (" +
                         std::to_string(free_bytes) + " bytes) free";
    if (old > 0)
      reason += ", and deleting the " + count_of(old, "older restore point", "older restore points") +
                " (the newest, '" + points_.back().name + "', is always kept) would free " +
                format_bytes(choice.freed) + " (" + std::to_string(choice.freed) + " bytes)";
    return stop(Outcome::failed, reason + "; nothing was written or deleted",
                "Use a larger disk, or free space on this one (lowering restore-points does not free the newest copy)");
  }
  if (choice.remove > 0)
    log_->info("Deleting the {} oldest to keep at most {} and make room ({} freed)",
               count_of(choice.remove, "restore point", "restore points"), config_.restore_points,
               format_bytes(choice.freed));
  for (std::size_t i = 0; i < choice.remove; ++i) {
    remove_restore_point(points_.front());
    points_.erase(points_.begin());
    report_.restore_points = points_;
  }
  return State::copy;
}

bool Job::commit_restore_point() {
  const std::string& dest = config_.backup_destination;
  RestorePoint point;
  point.name = restore_point_name(report_.started_at);
  point.started_at = report_.started_at;
  point.verified = config_.verify != VerifyMode::none;
  const std::string target = dest + "/" + point.name;
  try {
    if (ports_.fs.kind(target) != PathKind::missing) {
      stop(Outcome::failed, "The restore point '" + point.name + "' already exists on the disk; the new copy stays in '" +
                                copy_root_ + "'",
           "Plug the disk in again: the next run completes the copy under its own start time");
      return false;
    }
    ports_.fs.walk_files(copy_root_, disk_own_entries(), [&](const std::string&, const FileStamp& stamp) {
      ++point.files;
      point.bytes += stamp.size;
    });
    ports_.fs.make_directories(copy_root_ + "/" + kDiskStateDir, 0755);
    ports_.fs.write_atomic(copy_root_ + "/" + kPointRecordFile, to_json(point), 0644);
    // The rename is the moment the copy becomes a restore point.
    ports_.fs.rename_no_replace(copy_root_, target);
    copy_root_ = target;
    points_.push_back(point);
    report_.restore_points = points_;
    ports_.fs.replace_symlink(dest + "/" + kLatestLink, point.name);
  } catch (const std::system_error& e) {
    stop(Outcome::failed, std::string("Could not complete the restore point '") + point.name + "': " + e.what(),
         "Check the disk and its cable (see 'dmesg'), then plug it in again");
    return false;
  }
  log_->info("Restore point '{}' complete ({} in {}); the disk holds {}, '{}' names it", point.name,
             format_bytes(point.bytes), count_of(point.files, "file", "files"),
             count_of(points_.size(), "restore point", "restore points"), kLatestLink);
  return true;
}

}  // namespace ubc
