// SPDX-License-Identifier: MIT
// How a run ends: the stop reasons, the cleanup that undoes what was done, and the
// records and reports that every run leaves behind.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/disk_state.h"
#include "core/format.h"
#include "core/job.h"
#include "core/log_escape.h"
#include "core/mail_compose.h"
#include "core/metrics_textfile.h"
#include "core/monitoring_ping.h"
#include "core/run_log.h"
#include "version.h"

namespace ubc {

namespace {

constexpr int kUnmountAttempts = 5;
constexpr std::chrono::seconds kUnmountRetryDelay{2};

}  // namespace

Job::State Job::stop(Outcome outcome, std::string reason, std::string advice) {
  report_.outcome = outcome;
  report_.reason = std::move(reason);
  report_.advice = std::move(advice);
  if (report_.advice.empty())
    log_->error("{}", report_.reason);
  else
    log_->error("{}; {}", report_.reason, report_.advice);
  return State::done;
}

Job::State Job::stopped_from_outside() {
  return stop(Outcome::aborted,
              "Stopped by " + ports_.stop.describe() + " (the service was stopped or the disk was pulled out)",
              wrote_to_disk_ ? "The disk holds an incomplete copy; plug it in again to complete it"
                                   : "Nothing was written to the disk; plug it in again to copy");
}

void Job::warn(const std::string& message) {
  report_.warnings.push_back(message);
  log_->warn("{}", message);
}

void Job::ping_monitor_url(const std::string& url) {
  if (const auto error = ping_monitor(ports_.pinger, url)) {
    log_->warn("{}", *error);
    ping_warnings_.push_back(*error);
  }
}

void Job::set_phase(Phase phase, std::string detail) {
  phase_ = phase;
  status_.phase = phase;
  status_.detail = std::move(detail);
  publish_status();
}

void Job::publish_status() {
  if (disk_.uuid.empty()) return;
  status_.updated_at = ports_.clock.now_unix();
  try {
    ports_.status.publish(status_);
  } catch (const std::exception& e) {
    // Status is for watching; a copy does not fail because nobody can watch it.
    log_->warn("Could not update the status file: {}, ignoring", e.what());
  }
}

void Job::write_disk_state(const std::string& state, const std::string& reason) {
  DiskState s;
  s.state = state;
  s.source_host = context_.host;
  s.source = config_.backup_source;
  s.started_at = report_.started_at;
  s.finished_at = state == "in-progress" ? 0 : ports_.clock.now_unix();
  s.bytes = report_.bytes_copied;
  s.files = report_.files_copied;
  s.reason = reason;
  s.tool_version = kToolVersion;
  s.last_complete_at = state == "complete" ? s.finished_at : last_complete_at_;
  s.restore_points = points_;
  ports_.fs.write_atomic(config_.backup_destination + "/" + kDiskStateFile, to_json(s), 0644);
}

void Job::cleanup() {
  const std::size_t warnings_before = report_.warnings.size();
  undo_.unwind([this](const std::string& failure) { warn(failure); });
  if (report_.warnings.size() > warnings_before && report_.outcome == Outcome::success)
    report_.outcome = Outcome::warning;
}

// The disk's undo: mark an unfinished copy incomplete, leave the run log beside it, unmount.
void Job::leave_disk() {
  if (wrote_to_disk_ && !disk_complete_) {
    try {
      write_disk_state("incomplete", report_.reason);
      log_->info("Marked the disk's copy incomplete");
    } catch (const std::exception& e) {
      log_->warn("Could not mark the disk's copy incomplete ({}); it still says in-progress", e.what());
    }
  }
  // A run that stopped before copying leaves the disk exactly as it was, its last log too.
  if ((wrote_to_disk_ || disk_complete_) && request_action_ == JobAction::copy) {
    try {
      ports_.fs.make_directories(config_.backup_destination + "/" + kDiskStateDir, 0755);
      ports_.fs.write_atomic(config_.backup_destination + "/" + kDiskRunLogFile, run_log_->text(), 0644);
    } catch (const std::exception& e) {
      log_->warn("Could not write the run log onto the disk: {}, ignoring", e.what());
    }
  }
  unmount_disk();
}

void Job::unmount_disk() {
  const std::string& target = config_.backup_destination;
  // A disk that was pulled out cannot be unmounted cleanly: detach it at once.
  const bool gone = !ports_.devices.by_devnode(disk_.devnode).has_value();
  for (int attempt = 1; attempt <= kUnmountAttempts; ++attempt) {
    UnmountResult r;
    try {
      r = ports_.mounter.unmount(target, gone);
    } catch (const std::exception& e) {
      log_->warn("Unmounting '{}' failed: {}", target, e.what());
      break;
    }
    if (r == UnmountResult::done || r == UnmountResult::not_mounted) {
      report_.unmounted = !gone;
      if (gone)
        log_->info("Detached '{}' (the disk is gone)", target);
      else
        log_->info("Unmounted '{}'; the disk is safe to unplug", target);
      return;
    }
    log_->warn("'{}' is busy; unmount attempt {} of {} failed", target, attempt, kUnmountAttempts);
    if (attempt < kUnmountAttempts) ports_.clock.sleep(kUnmountRetryDelay);
  }
  try {
    ports_.mounter.sync(target);
    report_.synced_only = true;
    report_.warnings.push_back("The disk could not be unmounted from '" + target +
                               "' (busy); its data was synced. Run 'umount " + target +
                               "' before unplugging it");
    log_->warn("{}", report_.warnings.back());
  } catch (const std::exception& e) {
    report_.warnings.push_back("The disk could not be unmounted or synced (" + std::string(e.what()) +
                               "); do not unplug it before running 'umount " + target + "'");
    log_->error("{}", report_.warnings.back());
  }
  if (report_.outcome == Outcome::success) report_.outcome = Outcome::warning;
}

// Every run ends with a history row and a mail, whatever failed before.
void Job::conclude() {
  // Kept mails go out first, so that what became of them is in this run's report.
  const KeptMailDelivery kept = ports_.mailer.deliver_kept();
  if (kept.sent > 0) log_->info("Sent {} mails kept from earlier runs", kept.sent);
  for (const auto& warning : kept.warnings) warn(warning);
  if (report_.outcome == Outcome::success && !report_.warnings.empty()) report_.outcome = Outcome::warning;
  // ping-url, once the outcome is settled: its failures join the warnings after that.
  if (!config_.ping_url.empty() && request_action_ == JobAction::copy)
    if (const auto url = end_ping_url(config_.ping_url, report_.outcome)) ping_monitor_url(*url);
  report_.warnings.insert(report_.warnings.end(), ping_warnings_.begin(), ping_warnings_.end());
  try {
    report_.run_log = run_log_->text();  // the history keeps the log as it stands now
    ports_.history.record(report_);
  } catch (const std::exception& e) {
    // The copy's result stands; the mail below tells that the history lacks this run.
    warn("This run could not be recorded in the run history (" + std::string(e.what()) +
         "); the copy is not affected. Check the database, or move it away to start a new one");
    if (report_.outcome == Outcome::success) report_.outcome = Outcome::warning;
  }
  // metrics-textfile, from the history just written. A failure is told, never a worse outcome.
  if (const auto error = write_metrics_textfile(config_, ports_.history, ports_.fs, ports_.clock.now_unix()))
    warn("The metrics file '" + config_.metrics_textfile + "' could not be written (" + *error +
         "); monitoring shows stale values until a run writes it");
  const auto duration = report_.finished_at - report_.started_at;
  log_->info("Run ended: {} after {}", to_string(report_.outcome), format_duration(duration));
  // Taken after the history, so that the attached log holds a failure to record the run.
  report_.run_log = run_log_->text();
  MailResult sent;
  try {
    sent = ports_.mailer.send(compose_end_mail(config_, report_));
  } catch (const std::exception& e) {
    sent.error = e.what();
  }
  if (sent.outbox_sent > 0) log_->info("Sent {} mails kept from earlier runs", sent.outbox_sent);
  if (sent.sent && sent.error.empty())
    log_->info("Sent the report mail");
  else if (sent.sent)
    log_->warn("Sent the report mail, but: {}", sent.error);
  else if (sent.kept_in_outbox)
    log_->warn("The report mail was not sent ({}); it is kept and sent with the next run's mails", sent.error);
  else
    log_lines(*log_, spdlog::level::err,
              "The report mail was not sent (" + sent.error + ") and could not be kept; here it is:", sent.unkept);
  status_.phase = Phase::done;
  if (disk_.uuid.empty()) return;  // no status file was ever written
  try {
    ports_.status.clear(disk_.uuid);
  } catch (const std::exception& e) {
    log_->warn("Could not remove the status file: {}, ignoring", e.what());
  }
}

std::vector<std::string> describe_config(const Config& c) {
  std::vector<std::string> out;
  for (const auto& d : c.disks) {
    std::string mails;
    for (const auto& m : d.mails) mails += " " + m;
    out.push_back("disk " + d.uuid + (mails.empty() ? "" : " ->" + mails));
  }
  out.push_back("backup-source = " + c.backup_source);
  out.push_back("backup-destination = " + c.backup_destination);
  out.push_back("backup-lockfile-path = " + c.backup_lockfile_path);
  out.push_back("veeam-lockfiles = " + c.veeam_lockfiles);
  out.push_back("veeam-lockfile-path = " + c.veeam_lockfile_path);
  out.push_back("state-directory = " + c.state_directory);
  out.push_back("runtime-directory = " + c.runtime_directory);
  out.push_back("log-file-path = " + c.log_file_path);
  out.push_back("rsync-log-file-path = " + c.rsync_log_file_path);
  out.push_back("rsync-excludes-file = " + c.rsync_excludes_file);
  out.push_back("wait-for-veeam-minutes = " + std::to_string(c.wait_for_veeam_minutes));
  out.push_back("wait-for-queue-minutes = " + std::to_string(c.wait_for_queue_minutes));
  out.push_back("stall-timeout-minutes = " + std::to_string(c.stall_timeout_minutes));
  out.push_back("max-delete-percent = " + std::to_string(c.max_delete_percent));
  out.push_back("stale-after-days = " + std::to_string(c.stale_after_days));
  out.push_back("history-keep-days = " + std::to_string(c.history_keep_days));
  out.push_back("metrics-textfile = " + c.metrics_textfile);
  // A ping URL usually carries the check's secret: say only whether it is set.
  out.push_back(std::string("ping-url = ") + (c.ping_url.empty() ? "" : "(set)"));
  out.push_back(std::string("copy-yields-to-veeam = ") + (c.copy_yields_to_veeam ? "yes" : "no"));
  out.push_back(std::string("source-must-be-mountpoint = ") + (c.source_must_be_mountpoint ? "yes" : "no"));
  out.push_back("mail server = " + c.mail_server + ":" + std::to_string(c.effective_mail_port()));
  out.push_back("mail username = " + c.mail_username);
  out.push_back(std::string("mail password = ") + (c.mail_password.empty() ? "(none)" : "********"));
  out.push_back("mail password-file = " + c.mail_password_file);
  out.push_back("mail ca-file = " + c.mail_ca_file);
  return out;
}

}  // namespace ubc
