// SPDX-License-Identifier: MIT
// The copy job (DESIGN.md §4) as an explicit state machine over the ports. Every step logs
// what it does; every stop says what happened and what to do; whatever was done is undone
// on the way out (rsync stopped, lock removed, disk unmounted or synced, inhibitor
// released), and the run is always recorded and reported.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/manifest.h"
#include "core/verification.h"
#include "core/progress.h"
#include "core/report.h"
#include "core/restore_points.h"
#include "core/rsync.h"
#include "core/status.h"
#include "core/undo.h"
#include "ports/ports.h"

namespace spdlog {
class logger;
}

namespace ubc {

class RunLogSink;

struct JobRequest {
  enum class By { device, uuid, first_present };
  By by = By::device;
  std::string value;  // device node or filesystem UUID
  bool allow_mass_delete = false;  // `copy --allow-mass-delete`: override once
  JobAction action = JobAction::copy;  // `verify`: check the disk against its manifest
  bool all_points = false;  // `verify --all`: every restore point, not only the newest
};

struct JobContext {
  std::string host;
  int pid = 0;
  std::vector<std::string> environment;  // logged when `debug` is on
  std::vector<std::string> config_warnings;  // the report's too (a password others can read)
};

class Job {
 public:
  Job(const Config& config, Ports& ports, JobContext context);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  JobReport run(const JobRequest& request);

 private:
  enum class State {
    identify, claim, queue, wait_for_veeam, check_source, mount, lock, estimate,
    check_space, copy, sync, verify, finish, check_disk, done,
  };
  enum class WaitEnd { entered, timed_out, stopped };
  struct RsyncEnd {
    enum class Kind { exited, stopped, stalled, veeam_wait_timed_out } kind = Kind::exited;
    int exit_code = 0;
    std::string err;
  };

  State step(State state, const JobRequest& request);
  State identify(const JobRequest& request);
  State claim();
  State queue();
  State wait_for_veeam();
  State check_source();
  State mount();
  // An encrypted disk: opens its container and mounts what is inside (job_encrypted.cpp).
  std::optional<State> open_encrypted();
  State lock();
  State estimate(const JobRequest& request);
  State check_space();
  State copy();
  State sync();
  State verify();
  State finish();
  // `verify` (job_check_disk.cpp): the newest copy, or every restore point.
  State check_disk(bool all_points);
  enum class CopyCheck { checked, no_manifest, cancelled };
  CopyCheck check_copy(VerificationReport& v, std::vector<std::string>& damaged, const std::string& point);
  // Right after mounting, before anything is written: nullopt when the disk may be copied to
  // (job_enrollment.cpp).
  std::optional<State> prove_enrollment();

  State stop(Outcome outcome, std::string reason, std::string advice = {});
  State stopped_from_outside();
  State rsync_failed(const char* what, const RsyncEnd& end);
  WaitEnd enter_veeam_gate();
  RsyncEnd run_rsync(RsyncMode mode, RsyncOutputReader& reader);
  RsyncEnd run_rsync(RsyncMode mode, RsyncOutputReader& reader, const std::vector<std::string>& argv);
  // After a pause: continues files cut off half-way (job_resume.cpp); an end if it must stop.
  std::optional<RsyncEnd> resume_partial_files();
  // After a copy pass: rsync's partial dirs that a stop left empty (job_resume.cpp).
  void remove_empty_partial_dirs_left();
  bool pause_for_veeam();
  void on_progress(std::uint64_t bytes_done, bool force_log);
  void start_progress(Phase phase, std::uint64_t total);
  // Verification helpers (job_verify.cpp).
  std::vector<DiskFile> files_on_disk();
  // root: the copy whose manifest is read; empty: copy_root().
  Manifest read_disk_manifest(bool with_stamps, const std::string& root = {});
  void write_disk_manifest(const Manifest& manifest);
  void remove_disk_manifest();
  bool keep_verifying(std::uint64_t file_bytes_read);
  State verification_failed();
  void remember_damaged(const std::vector<std::string>& paths);
  void replace_damaged();
  void forget_damaged();
  // The files the last check found damaged, relative to the copy's root.
  std::vector<std::string> damaged_paths();
  // After a copy pass linked to the newest restore point: its damaged files copied anew
  // (job_damaged.cpp); a state when the job must stop.
  std::optional<State> copy_damaged_anew();
  void cleanup();
  void leave_disk();
  void unmount_disk();
  void write_disk_state(const std::string& state, const std::string& reason);
  void conclude();
  void warn(const std::string& message);
  // Symlinks, device nodes, FIFOs the disk holds and the source does not (job_foreign.cpp).
  void note_foreign_entries();
  // ping-url: a failure is logged and kept for the report, where it never worsens the outcome.
  void ping_monitor_url(const std::string& url);
  std::vector<std::string> ping_warnings_;
  void set_phase(Phase phase, std::string detail = {});
  void publish_status();
  std::string lock_path() const;
  std::string lock_undo_name() const;
  void push_lock_undo();
  std::chrono::milliseconds now() { return ports_.clock.monotonic(); }

  // Restore points (job_restore_points.cpp, DESIGN.md §5).
  State prepare_restore_points();
  std::vector<RestorePoint> find_restore_points();
  std::optional<RestorePoint> migrate_mirror();
  void remove_restore_point(const RestorePoint& point);
  // The mass-delete guard's figures: files on the disk's copy, and how many of them the
  // new copy drops.
  std::pair<std::uint64_t, std::uint64_t> files_at_risk(const Estimate& e);
  State check_space_for_restore_point();
  bool commit_restore_point();
  // Where rsync copies to and what is verified: the mount point (a mirror), the
  // in-progress copy, or (`verify`) the newest restore point.
  const std::string& copy_root() const { return copy_root_.empty() ? config_.backup_destination : copy_root_; }
  std::string copy_root_;
  std::string link_dest_;  // absolute: the newest complete restore point, if any
  bool restore_points_ = false;  // this run makes a restore point
  std::vector<RestorePoint> points_;  // complete ones, oldest first
  // Changed big files on xfs and btrfs (job_reflink.cpp): cloned from the newest restore
  // point and updated in place before the copy pass, so they cost only their changed blocks.
  void note_big_updated_files(const RsyncOutputReader& dry_run);
  std::optional<RsyncEnd> update_big_files_in_place();
  std::vector<std::string> big_updated_files_;  // the last dry run's, to clone
  std::vector<std::string> updated_in_place_;   // by this run: always read back

  const Config& config_;
  Ports& ports_;
  JobContext context_;
  JobAction request_action_ = JobAction::copy;
  std::shared_ptr<RunLogSink> run_log_;
  std::shared_ptr<spdlog::logger> log_;
  // What the job decides on is its own; the report and the status only receive it.
  JobReport report_;
  Status status_;
  BlockDevice disk_;
  Estimate estimate_;
  Phase phase_ = Phase::starting;
  std::string waiting_for_;  // "Veeam job 'Nightly'" while the gate keeps us out
  bool wrote_to_disk_ = false;
  int pauses_ = 0;

  // What has been done, so that cleanup() undoes exactly that, newest first.
  UndoStack undo_;
  bool entered_ = false;  // inside the Veeam gate now (a pause leaves it for a while)
  bool start_mail_sent_ = false;
  bool disk_complete_ = false;  // state.json says complete: never overwrite it with incomplete
  std::int64_t last_complete_at_ = 0;

  // No rate (and no ETA) before 5 s of copying: the first samples of rsync are tiny.
  RateEstimator rate_{std::chrono::seconds(30), std::chrono::seconds(5)};
  // Measured across the rsync runs of one phase: a run stopped for Veeam adds what it did.
  std::uint64_t bytes_offset_ = 0;
  std::uint64_t files_offset_ = 0;
  std::uint64_t bytes_done_ = 0;
  std::uint64_t files_done_ = 0;
  std::chrono::milliseconds last_status_{0};
  std::chrono::milliseconds last_progress_log_{0};
  std::uint64_t progress_total_ = 0;  // of the phase whose progress is shown (copy, verify)
  // Sums taken by this run's verification so far: a pause for Veeam goes back to the copy,
  // and the files already checked and not copied again are not read twice.
  Manifest verified_;
  std::uint64_t verified_bytes_before_file_ = 0;
};

// The mount options for a filesystem type, and the kernel's name for udev's type
// ("ntfs" is mounted with ntfs3); nullopt for types the copier does not mount.
std::optional<std::string> kernel_fstype(const std::string& udev_fstype);
std::string mount_options_for(const std::string& kernel_fstype);

// What the space check adds to the bytes to copy (see check_space).
std::uint64_t space_margin(const Estimate& estimate);

// The configuration as the log shows it with `debug = true`; passwords masked.
std::vector<std::string> describe_config(const Config& config);

}  // namespace ubc
