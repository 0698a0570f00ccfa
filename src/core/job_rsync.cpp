// SPDX-License-Identifier: MIT
// Running rsync under watch: progress, stall watchdog, stop requests and yielding to Veeam.
#include <spdlog/spdlog.h>

#include "core/format.h"
#include "core/job.h"

namespace ubc {

namespace {

constexpr std::chrono::milliseconds kReadSlice{500};
constexpr std::chrono::milliseconds kStatusEvery{2000};
constexpr std::chrono::milliseconds kTerminateGrace{10000};
constexpr std::size_t kKeepStderr = 64 * 1024;

}  // namespace

Job::RsyncEnd Job::run_rsync(RsyncMode mode, RsyncOutputReader& reader) {
  return run_rsync(mode, reader, build_rsync_argv(config_, *kernel_fstype(disk_.fstype), copy_root(), mode, link_dest_));
}

Job::RsyncEnd Job::run_rsync(RsyncMode mode, RsyncOutputReader& reader, const std::vector<std::string>& argv) {
  const auto stall_limit = std::chrono::minutes(config_.stall_timeout_minutes);
  for (;;) {
    log_->debug("Running: {}", fmt::join(argv, " "));
    auto process = ports_.processes.start(argv);
    RsyncEnd end;
    auto last_activity = now();
    std::uint64_t last_bytes = bytes_done_;
    bool paused = false;
    for (;;) {
      const ProcessOutput out = process->read(kReadSlice);
      if (!out.out.empty()) reader.feed(out.out);
      if (!out.err.empty()) {
        end.err += out.err;
        if (end.err.size() > kKeepStderr) end.err.erase(0, end.err.size() - kKeepStderr);
      }
      if (mode == RsyncMode::dry_run && (!out.out.empty() || !out.err.empty())) last_activity = now();
      if (mode == RsyncMode::copy) {
        if (const auto sample = reader.take_progress()) {
          const std::uint64_t done = bytes_offset_ + sample->bytes;
          files_done_ = files_offset_ + sample->files_transferred;
          if (done != last_bytes) {
            last_bytes = done;
            last_activity = now();
          }
          on_progress(done, false);
        } else if (now() - last_status_ >= kStatusEvery) {
          on_progress(bytes_done_, false);
        }
      }
      if (out.exited) {
        reader.finish();
        end.kind = RsyncEnd::Kind::exited;
        end.exit_code = process->exit_code();
        return end;
      }
      if (ports_.stop.stop_requested()) {
        log_->warn("Stop requested ({}); stopping rsync", ports_.stop.describe());
        process->terminate(kTerminateGrace);
        end.kind = RsyncEnd::Kind::stopped;
        return end;
      }
      if (now() - last_activity >= stall_limit) {
        log_->error("rsync made no progress for {} min; stopping it", config_.stall_timeout_minutes);
        process->terminate(kTerminateGrace);
        end.kind = RsyncEnd::Kind::stalled;
        return end;
      }
      if (config_.copy_yields_to_veeam && ports_.veeam.lease_appeared()) {
        process->terminate(kTerminateGrace);
        paused = true;
        break;
      }
    }
    if (paused) {
      if (!pause_for_veeam()) {
        RsyncEnd end_wait;
        end_wait.kind = ports_.stop.stop_requested() ? RsyncEnd::Kind::stopped
                                                     : RsyncEnd::Kind::veeam_wait_timed_out;
        return end_wait;
      }
      // rsync starts over and skips what is already on the disk; a dry run is simply
      // repeated, a copy counts on from what the stopped run had done, after continuing
      // the file the pause cut off (job_resume.cpp).
      reader.restart();
      bytes_offset_ = bytes_done_;
      files_offset_ = files_done_;
      if (mode == RsyncMode::copy) {
        if (auto end_resume = resume_partial_files()) return *end_resume;
      }
    }
  }
}

bool Job::pause_for_veeam() {
  report_.veeam_pauses = ++pauses_;
  const Phase resume_phase = phase_;
  // Status first: veeam-lock returns as soon as we leave, and whoever looks then must
  // already see the pause.
  set_phase(Phase::paused_for_veeam, "paused for a Veeam job");
  log_->warn("A Veeam job wants the repository: rsync stopped, copy paused (pause {})", pauses_);
  entered_ = false;
  ports_.veeam.leave();
  const WaitEnd end = enter_veeam_gate();
  if (end != WaitEnd::entered) return false;
  log_->info("Veeam is done; resuming where the copy stopped");
  rate_.reset();  // the pause would drag the average rate down
  set_phase(resume_phase);
  return true;
}

void Job::start_progress(Phase phase, std::uint64_t total) {
  progress_total_ = total;
  bytes_offset_ = files_offset_ = 0;
  bytes_done_ = files_done_ = 0;
  rate_.reset();
  status_.bytes_done = 0;
  status_.bytes_total = total;
  status_.rate_bytes_per_second = 0;
  status_.eta_seconds.reset();
  set_phase(phase);
}

void Job::on_progress(std::uint64_t bytes_done, bool force_log) {
  const auto t = now();
  bytes_done_ = bytes_done;
  const std::uint64_t total = progress_total_;
  rate_.add(t, bytes_done);
  status_.bytes_done = std::min(bytes_done, total == 0 ? bytes_done : total);
  status_.bytes_total = total;
  status_.rate_bytes_per_second = rate_.bytes_per_second();
  status_.eta_seconds = rate_.eta_seconds(total > bytes_done ? total - bytes_done : 0);
  if (force_log || t - last_status_ >= kStatusEvery) {
    last_status_ = t;
    publish_status();
  }
  if (force_log || t - last_progress_log_ >= std::chrono::seconds(config_.rsync_update_ratio_seconds)) {
    last_progress_log_ = t;
    log_->info("Progress: {}", status_line(status_));
  }
}

}  // namespace ubc
