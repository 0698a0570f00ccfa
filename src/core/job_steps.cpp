// SPDX-License-Identifier: MIT
// The steps that touch the disk: mount, lock, estimate, space check, copy, finish.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/disk_state.h"
#include "core/encrypted_disk.h"
#include "core/format.h"
#include "core/job.h"
#include "core/log_escape.h"
#include "core/mail_compose.h"
#include "core/text.h"
#include "version.h"

namespace ubc {

namespace {

constexpr const char* kReleaseInhibitor = "release the shutdown inhibitor";

}  // namespace

Job::State Job::mount() {
  if (disk_.fstype == kLuksFsType) {
    if (const auto stopped = open_encrypted()) return *stopped;
  }
  const std::string& target = config_.backup_destination;
  const auto& disk = disk_;
  const auto fstype = kernel_fstype(disk.fstype);
  if (!fstype)
    return stop(Outcome::failed, "The disk's filesystem '" + disk.fstype + "' is not supported",
                "Format the disk as ext4 (or xfs, btrfs, exfat, vfat, ntfs) and whitelist its new UUID");
  const auto mounted_at = ports_.mounter.mount_points_of(disk.devnode);
  if (!mounted_at.empty())
    return stop(Outcome::failed, "Disk is already mounted at '" + mounted_at.front() + "'",
                "Unmount it or turn off desktop automounting, then plug it in again");
  if (ports_.fs.kind(target) != PathKind::directory)
    return stop(Outcome::failed, "The mount point '" + target + "' does not exist or is not a directory",
                "Create it with 'mkdir -p " + target + "' or fix 'backup-destination'");
  if (ports_.fs.is_mountpoint(target))
    return stop(Outcome::failed, "Something else is already mounted at '" + target + "'",
                "Unmount it ('umount " + target + "'), then plug the disk in again");
  if (!ports_.fs.list_entries(target).empty())
    return stop(Outcome::failed, "The mount point '" + target + "' is not an empty directory",
                "Move its contents away (they would be hidden by the disk), then plug the disk in again");
  set_phase(Phase::mounting);
  // `verify` only reads: mounted read-only, the disk stays exactly as it was.
  const bool read_only = request_action_ == JobAction::verify;
  const std::string options = mount_options_for(*fstype) + (read_only ? ",ro" : "");
  try {
    ports_.mounter.mount(disk.devnode, target, *fstype, options);
  } catch (const MountError& e) {
    return stop(Outcome::failed, "Could not mount " + disk.devnode + " at '" + target + "': " + e.what(),
                "Check the disk with 'fsck' on another machine or reformat it; see 'dmesg' for details");
  }
  undo_.push("unmount the disk", [this] { leave_disk(); });
  log_->info("Mounted {} ({}) at '{}' with {}", disk.devnode, *fstype, target, options);
  if (!read_only)
    if (const auto refused = prove_enrollment()) return *refused;

  std::optional<DiskState> previous;
  try {
    if (const auto text = ports_.fs.read_file(target + "/" + kDiskStateFile, kDiskStateMaxBytes)) {
      previous = disk_state_from_json(*text);
      if (!previous) warn("The disk's state file '" + std::string(kDiskStateFile) + "' is not valid; treated as no state");
    }
  } catch (const std::system_error& e) {
    // Anything on the disk is hostile: a FIFO, a link or a huge file in its place.
    warn("The disk's state file could not be read (" + std::string(e.what()) + "); treated as no state");
  }
  if (previous) {
    last_complete_at_ = previous->state == "complete" ? previous->finished_at : previous->last_complete_at;
    log_->info("The disk's last copy: {}{}", previous->state,
               previous->finished_at ? " at " + format_utc(previous->finished_at) : std::string());
    if (previous->state == "in-progress" && !read_only)
      warn("The disk's previous copy never finished (the copier was killed or the disk pulled out); "
           "this run completes it");
  }
  if (!read_only) note_foreign_entries();
  return read_only ? State::check_disk : State::lock;
}

std::string Job::lock_undo_name() const { return "delete the lock file '" + lock_path() + "'"; }

void Job::push_lock_undo() {
  undo_.push(lock_undo_name(), [this] {
    ports_.run_lock.release_and_remove();
    log_->info("Removed the run lock '{}'", lock_path());
  });
}

Job::State Job::lock() {
  const std::string path = lock_path();
  LockResult result;
  try {
    result = ports_.run_lock.acquire(path);
  } catch (const std::system_error& e) {
    return stop(Outcome::failed, "Could not create the lock file '" + path + "': " + e.what(),
                "Check that the directory exists and is writable by root ('backup-lockfile-path')");
  }
  switch (result) {
    case LockResult::busy:
      return stop(Outcome::failed, "The lock file '" + path + "' is held by another running copier",
                  "The copier was started twice; wait for the other run to finish");
    case LockResult::taken_over_stale:
      push_lock_undo();
      warn("Found the lock file '" + path + "' left by a run that died; taking it over");
      break;
    case LockResult::taken:
      push_lock_undo();
      log_->info("Took the run lock '{}'", path);
      break;
  }
  if (const State next = prepare_restore_points(); next != State::estimate) return next;
  replace_damaged();
  return State::estimate;
}

Job::State Job::estimate(const JobRequest& request) {
  set_phase(Phase::estimating);
  log_->info("Estimating the work with an rsync dry run");
  // FAT and exFAT cannot store every file: the dry run's list says which, before writing.
  RsyncOutputReader reader{fs_limits(*kernel_fstype(disk_.fstype))};
  const RsyncEnd end = run_rsync(RsyncMode::dry_run, reader);
  if (end.kind != RsyncEnd::Kind::exited || (end.exit_code != 0 && end.exit_code != 24))
    return rsync_failed("The rsync dry run", end);
  const auto stats = parse_rsync_stats(reader.text());
  if (!stats)
    return stop(Outcome::failed, "The rsync dry run printed no statistics",
                "Check the rsync installation ('rsync --version') and the rsync log");
  Estimate e;
  e.bytes_to_copy = stats->transferred_file_size;
  e.files_to_copy = stats->regular_files_transferred;
  e.files_total = stats->files_total;
  e.files_to_delete = stats->files_deleted;
  e.largest_file = reader.largest_updated_file();
  for (const auto& path : reader.deleted_paths())
    e.bytes_to_delete += ports_.fs.file_size(copy_root() + "/" + path).value_or(0);
  estimate_ = e;
  note_big_updated_files(reader);
  report_.estimate = e;
  status_.bytes_total = e.bytes_to_copy;
  log_->info("To copy: {} in {} files; to delete on the disk: {} files ({}); source holds {} files",
             format_bytes(e.bytes_to_copy), e.files_to_copy, e.files_to_delete,
             format_bytes(e.bytes_to_delete), e.files_total);
  if (reader.unstorable().count() > 0) {
    auto [reason, advice] = describe_unstorable(reader.unstorable());
    return stop(Outcome::failed, std::move(reason), std::move(advice));
  }

  // The files actually on the disk, not our own record of them: a disk written by the
  // older script, or whose state.json was lost, is protected too. Only an empty disk is a
  // first copy.
  const auto [on_disk, deleting] = files_at_risk(e);
  if (on_disk > 0) {
    const bool mass = deleting * 100 > on_disk * static_cast<std::uint64_t>(config_.max_delete_percent);
    if (mass && !request.allow_mass_delete)
      return stop(Outcome::failed,
                  "The copy would delete " + std::to_string(deleting) + " of the " +
                      std::to_string(on_disk) + " files on the disk (more than max-delete-percent = " +
                      std::to_string(config_.max_delete_percent) + "%); the disk was left untouched",
                  "Check that '" + config_.backup_source + "' holds the whole repository. If the deletions "
                  "are intended, run once: usb-backup-copier copy --device " + disk_.devnode +
                  " --allow-mass-delete");
    if (mass) warn("Deleting " + std::to_string(deleting) + " files on the disk, allowed once by --allow-mass-delete");
  }
  return State::check_space;
}

// Room beyond the bytes themselves, so that a full disk is found here and not mid-copy:
// a block per file for rounding, 1 % for the filesystem's metadata (extents, checksums on
// btrfs, directories), a line per file for the checksum manifest, and 16 MiB for the rest.
std::uint64_t space_margin(const Estimate& e) {
  return e.files_to_copy * 4096 + e.bytes_to_copy / 100 + e.files_total * 256 + (16ULL << 20);
}

Job::State Job::check_space() {
  if (restore_points_) return check_space_for_restore_point();
  const Estimate& e = estimate_;
  const SpaceInfo space = ports_.fs.space(config_.backup_destination);
  // --delete-before frees what the source no longer has before anything is written; an
  // updated file needs room for its new version beside the old one.
  const std::uint64_t needed = e.bytes_to_copy + e.largest_file + space_margin(e);
  const std::uint64_t available = space.free_bytes + e.bytes_to_delete;
  log_->info("Space: {} needed (with {} margin for blocks, metadata and the manifest), {} free on the "
             "disk ({} more after deletions)", format_bytes(needed), format_bytes(space_margin(e)),
             format_bytes(space.free_bytes), format_bytes(e.bytes_to_delete));
  if (needed > available)
    return stop(Outcome::failed,
                "Not enough space on the disk: the copy needs " + format_bytes(needed) + " (" +
                    std::to_string(needed) + " bytes), the disk has " + format_bytes(available) + " (" +
                    std::to_string(available) + " bytes) free after deletions; nothing was written",
                "Use a larger disk, or free space on this one");
  return State::copy;
}

Job::State Job::copy() {
  const Estimate& e = estimate_;
  // A new restore point is made even of an unchanged source: its links are the copy.
  if (!restore_points_ && e.bytes_to_copy == 0 && e.files_to_copy == 0 && e.files_to_delete == 0) {
    log_->info("The disk is already up to date; nothing to copy");
    return State::sync;
  }
  if (!undo_.pending(kReleaseInhibitor)) {
    if (auto error = ports_.inhibitor.acquire("Copying backups to disk " + disk_.uuid))
      warn("Could not take a shutdown inhibitor lock (" + *error + "); a shutdown would interrupt the copy");
    else
      undo_.push(kReleaseInhibitor, [this] { ports_.inhibitor.release(); });
  }

  ports_.fs.make_directories(config_.backup_destination + "/" + kDiskStateDir, 0755);
  write_disk_state("in-progress", "");
  wrote_to_disk_ = report_.copy_started = true;

  // The expected duration comes from this disk's last good copy, if there was one. It only
  // refines the start mail: a history that cannot be read (corrupt, locked) is a warning.
  std::optional<double> rate;
  try {
    for (const auto& row : ports_.history.last_run_per_disk())
      if (row.uuid == disk_.uuid && row.bytes > 0 && row.finished_at > row.started_at &&
          (row.outcome == "success" || row.outcome == "warning"))
        rate = static_cast<double>(row.bytes) / static_cast<double>(row.finished_at - row.started_at);
  } catch (const std::exception& error) {
    warn("Could not read the run history (" + std::string(error.what()) +
         "); the copy goes on without it. Check the database, or move it away to start a new one");
  }
  if (rate) report_.estimated_seconds = saturate_to_i64(static_cast<double>(e.bytes_to_copy) / *rate);
  if (config_.send_start_mail && !start_mail_sent_) {
    start_mail_sent_ = true;
    // Never mail while holding the repository: a slow mail server must not keep a Veeam
    // job waiting. Out of the gate for the mail, back in afterwards; if Veeam came in
    // meanwhile, the source may have changed, so the estimate is made again.
    entered_ = false;
    ports_.veeam.leave();
    const MailResult sent = ports_.mailer.send(compose_start_mail(config_, report_, rate));
    if (!sent.sent)
      warn("The start mail was not sent (" + sent.error + ")" +
           (sent.kept_in_outbox ? "; it is kept and sent with the next mails" : " and could not be kept"));
    if (!sent.unkept.empty()) log_lines(*log_, spdlog::level::err, "The start mail that could not be kept:", sent.unkept);
    if (ports_.stop.stop_requested()) return stopped_from_outside();
    const GateResult again = ports_.veeam.try_enter();
    if (again.entered) {
      entered_ = true;
    } else {
      const State next = wait_for_veeam();
      return next == State::check_source ? State::estimate : next;
    }
  }

  log_->info("Copying {} to the disk", format_bytes(e.bytes_to_copy));
  start_progress(Phase::copying, e.bytes_to_copy);
  if (const auto end = update_big_files_in_place()) return rsync_failed("The in-place update of changed big files", *end);
  RsyncOutputReader reader;
  const RsyncEnd end = run_rsync(RsyncMode::copy, reader);
  if (end.kind != RsyncEnd::Kind::exited || (end.exit_code != 0 && end.exit_code != 24))
    return rsync_failed("The copy", end);
  remove_empty_partial_dirs_left();
  if (end.exit_code == 24)
    warn("Some source files vanished during the copy (rsync exit 24); they are not on the disk");
  if (reader.skipped_non_regular() > 0)
    warn(std::to_string(reader.skipped_non_regular()) + " symlinks or special files were not copied: the disk's " +
         disk_.fstype + " filesystem cannot hold them");
  // The last run's own statistics, plus what the runs stopped for Veeam had done. A pause
  // during the verification comes back here: each round adds its figures.
  std::uint64_t bytes = bytes_done_, files = files_done_;
  if (const auto stats = parse_rsync_stats(reader.text())) {
    bytes = bytes_offset_ + stats->transferred_file_size;
    files = files_offset_ + stats->regular_files_transferred;
  }
  on_progress(bytes, true);
  report_.bytes_copied += bytes;
  report_.files_copied += files;
  if (const auto stopped = copy_damaged_anew()) return *stopped;
  return State::sync;
}

Job::State Job::finish() {
  // Only now, with the data synced and read back, may the disk say "complete".
  set_phase(Phase::finishing);
  if (restore_points_ && !commit_restore_point()) return State::done;
  write_disk_state("complete", "");
  disk_complete_ = true;
  log_->info("Marked the disk's copy complete");
  forget_damaged();
  try {
    undo_.run_now(lock_undo_name());
  } catch (const std::system_error& e) {
    return stop(Outcome::failed, "Could not delete the lock file '" + lock_path() + "': " + e.what(),
                "Delete it by hand; Veeam and the next copy treat it as a stale lock until then");
  }
  const SpaceInfo space = ports_.fs.space(config_.backup_destination);
  report_.free_bytes_after = space.free_bytes;
  const std::uint64_t threshold = static_cast<std::uint64_t>(config_.free_space_threshold_gb) << 30;
  if (space.free_bytes < threshold)
    warn("Only " + format_bytes(space.free_bytes) + " left free on the disk (threshold " +
         std::to_string(config_.free_space_threshold_gb) + " GiB); the next copy may not fit");
  report_.outcome = report_.warnings.empty() ? Outcome::success : Outcome::warning;
  report_.reason = report_.warnings.empty() ? "Copy complete" : "Copy complete, with warnings";
  log_->info("Copy complete: {} in {} files", format_bytes(report_.bytes_copied), report_.files_copied);
  return State::done;
}

Job::State Job::rsync_failed(const char* what, const RsyncEnd& end) {
  using Kind = RsyncEnd::Kind;
  switch (end.kind) {
    case Kind::stopped:
      return stopped_from_outside();
    case Kind::stalled:
      return stop(Outcome::failed,
                  std::string(what) + " made no progress for " + std::to_string(config_.stall_timeout_minutes) +
                      " min and was stopped",
                  "Check the disk and its cable (see 'dmesg'), then plug it in again");
    case Kind::veeam_wait_timed_out:
      return stop(Outcome::gave_up,
                  std::string(what) + " paused for Veeam and gave up after waiting " +
                      std::to_string(config_.wait_for_veeam_minutes) + " min for " + waiting_for_,
                  "Plug the disk in again after the Veeam job; the copy continues where it stopped");
    case Kind::exited:
      break;
  }
  // A disk pulled out makes rsync fail with I/O errors a moment before systemd's SIGTERM
  // (the unit is BindsTo= the device) arrives: that is an abort, not an rsync problem.
  if (!ports_.devices.by_devnode(disk_.devnode))
    return stop(Outcome::aborted, std::string(what) + " stopped: the disk was pulled out",
                wrote_to_disk_ ? "The disk holds an incomplete copy; plug it in again to complete it"
                                     : "Nothing was written to the disk; plug it in again to copy");
  if (ports_.stop.stop_requested()) return stopped_from_outside();
  const auto lines = last_error_lines(end.err, 3);
  std::string reason = std::string(what) + " failed: rsync exit " + std::to_string(end.exit_code) + ", " +
                       rsync_exit_meaning(end.exit_code);
  if (!lines.empty()) reason += ": " + join(lines, " | ");
  std::string advice = "Read rsync's messages above";
  if (!config_.rsync_log_file_path.empty()) advice += " and its log '" + config_.rsync_log_file_path + "'";
  return stop(Outcome::failed, reason, advice);
}

}  // namespace ubc
