// SPDX-License-Identifier: MIT
// Restore points on xfs and btrfs (DESIGN.md §5): a big file that changed since the newest
// restore point is first cloned from it (the clone shares every block with the old
// version) and then updated in place by rsync's delta transfer, so the new restore point
// costs only the blocks that changed. Whatever goes wrong before the in-place pass leaves
// the file to the copy pass, which writes it whole, as on ext4.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/job.h"
#include "core/text.h"
#include "core/verification.h"

namespace ubc {

namespace {

bool shares_blocks(const std::string& kernel_fstype) { return kernel_fstype == "xfs" || kernel_fstype == "btrfs"; }

// Every directory on the way to path below root is a directory, not a symlink (missing
// ones are made). in-progress may hold a symlink from an earlier source that rsync has not
// yet turned into a directory: a clone through it could land in an older restore point.
bool no_symlink_along(FileSystem& fs, const std::string& root, const std::string& path) {
  for (auto at = path.find('/'); at != std::string::npos; at = path.find('/', at + 1)) {
    const PathKind kind = fs.kind(root + "/" + path.substr(0, at));
    if (kind == PathKind::missing) return true;
    if (kind != PathKind::directory) return false;
  }
  return true;
}

}  // namespace

void Job::note_big_updated_files(const RsyncOutputReader& dry_run) {
  big_updated_files_.clear();
  if (!restore_points_ || link_dest_.empty() || !shares_blocks(*kernel_fstype(disk_.fstype))) return;
  for (const std::string& path : dry_run.big_updated_files())
    if (no_symlink_along(ports_.fs, link_dest_, path) && ports_.fs.kind(link_dest_ + "/" + path) == PathKind::file)
      big_updated_files_.push_back(path);
}

std::optional<Job::RsyncEnd> Job::update_big_files_in_place() {
  std::string list;  // NUL-terminated names, for rsync's --from0
  std::vector<std::string> cloned;
  for (const std::string& path : big_updated_files_) {
    const std::string to = copy_root_ + "/" + path;
    try {
      if (!no_symlink_along(ports_.fs, copy_root_, path)) {
        log_->warn("{} lies below a symlink in the unfinished copy; copying it whole", quoted_path(path));
        continue;
      }
      ports_.fs.make_directories(to.substr(0, to.rfind('/')), 0755);
      // Replaces whatever the unfinished copy holds there (a version cut off half-way, or
      // a hard link into the newest restore point, which writing in place would change).
      if (!ports_.fs.clone_file(link_dest_ + "/" + path, to)) {
        log_->info("The disk's {} filesystem cannot share blocks between restore points; changed big files "
                   "are copied whole", disk_.fstype);
        break;
      }
    } catch (const std::system_error& e) {
      log_->warn("Could not clone {} from the newest restore point ({}); copying it whole", quoted_path(path), e.what());
      continue;
    }
    cloned.push_back(path);
    list += path;
    list += '\0';
  }
  if (cloned.empty()) return std::nullopt;
  const std::string list_file = config_.runtime_directory + "/in-place-" + uuid_name_chars(disk_.uuid) + ".list";
  try {
    ports_.fs.write_atomic(list_file, list, 0600);
  } catch (const std::system_error& e) {
    log_->warn("Could not write the list of files to update in place ({}); copying them whole", e.what());
    return std::nullopt;
  }

  log_->info("Updating {} in place: cloned from restore point '{}', only their changed blocks take new space",
             count_of(cloned.size(), "changed big file", "changed big files"), points_.back().name);
  RsyncOutputReader reader;
  const RsyncEnd end = run_rsync(RsyncMode::copy, reader, build_in_place_argv(config_, copy_root_, list_file));
  try {
    (void)ports_.fs.remove(list_file);
  } catch (const std::system_error& e) {
    log_->warn("Could not remove '{}' ({}), ignoring", list_file, e.what());
  }
  if (end.kind != RsyncEnd::Kind::exited) return end;
  // Up to the copy pass now: a clone left as it is differs from the source, and is copied.
  if (end.exit_code != 0 && end.exit_code != 24) {
    const auto lines = last_error_lines(end.err, 3);
    log_->warn("The in-place update failed ({}{}); the copy writes those files whole", rsync_exit_meaning(end.exit_code),
               lines.empty() ? "" : ": " + join(lines, " | "));
    return std::nullopt;
  }
  // The copy pass counts on from here: these files now match the source, it skips them.
  if (const auto stats = parse_rsync_stats(reader.text())) {
    bytes_offset_ += stats->transferred_file_size;
    files_offset_ += stats->regular_files_transferred;
  } else {
    bytes_offset_ = bytes_done_;
    files_offset_ = files_done_;
  }
  on_progress(bytes_offset_, false);
  updated_in_place_.insert(updated_in_place_.end(), cloned.begin(), cloned.end());
  return std::nullopt;
}

}  // namespace ubc
