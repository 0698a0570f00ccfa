// SPDX-License-Identifier: MIT
// After a pause for Veeam: the file the pause cut off is continued from its partial copy
// instead of being copied again from its first byte. A local rsync sends whole files, so
// the copy that starts over would rewrite a half-copied 1 TB backup file from the start.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/format.h"
#include "core/job.h"
#include "core/partial_dirs.h"

namespace ubc {

namespace {

constexpr std::chrono::milliseconds kResumeReadSlice{500};
constexpr std::chrono::milliseconds kResumeTerminateGrace{10000};
constexpr std::size_t kResumeKeepStderr = 16 * 1024;

}  // namespace

std::optional<Job::RsyncEnd> Job::resume_partial_files() {
  const std::string& dest = copy_root();
  const std::string fstype = *kernel_fstype(report_.disk.fstype);
  const auto stall_limit = std::chrono::minutes(config_.stall_timeout_minutes);
  for (;;) {  // again only when another pause cut a resume short
    std::vector<std::string> partials;
    ports_.fs.walk_files(dest, disk_own_entries(), [&](const std::string& path, const FileStamp&) {
      if (partial_target(path)) partials.push_back(path);
    });
    bool paused = false;
    for (const std::string& partial : partials) {
      const std::string target = *partial_target(partial);
      const std::string source = config_.backup_source + "/" + target;
      const auto have = ports_.fs.file_size(dest + "/" + partial);
      const auto want = ports_.fs.file_size(source);
      // Only a source longer than the partial copy can be continued; anything else (gone,
      // shrunk, a partial copy that is already whole) is left to the copy, which sends it
      // in full as before.
      if (!have || !want || *have == 0 || *have >= *want) continue;
      log_->info("Continuing '{}' from its partial copy ({} of {}) instead of copying it again", target,
                 format_bytes(*have), format_bytes(*want));
      const auto argv = build_resume_argv(config_, fstype, source, dest + "/" + partial);
      log_->debug("Running: {}", fmt::join(argv, " "));
      auto process = ports_.processes.start(argv);
      RsyncOutputReader reader;
      std::string err;
      std::uint64_t last_bytes = 0;
      auto last_activity = now();
      for (;;) {
        const ProcessOutput out = process->read(kResumeReadSlice);
        if (!out.out.empty()) reader.feed(out.out);
        if (!out.err.empty()) {
          err += out.err;
          if (err.size() > kResumeKeepStderr) err.erase(0, err.size() - kResumeKeepStderr);
        }
        if (const auto sample = reader.take_progress(); sample && sample->bytes != last_bytes) {
          last_bytes = sample->bytes;
          last_activity = now();
        }
        if (out.exited) break;
        RsyncEnd end;
        if (ports_.stop.stop_requested()) {
          log_->warn("Stop requested ({}); stopping rsync", ports_.stop.describe());
          process->terminate(kResumeTerminateGrace);
          end.kind = RsyncEnd::Kind::stopped;
          return end;
        }
        if (now() - last_activity >= stall_limit) {
          log_->error("rsync made no progress for {} min; stopping it", config_.stall_timeout_minutes);
          process->terminate(kResumeTerminateGrace);
          end.kind = RsyncEnd::Kind::stalled;
          return end;
        }
        if (config_.copy_yields_to_veeam && ports_.veeam.lease_appeared()) {
          process->terminate(kResumeTerminateGrace);
          paused = true;
          break;
        }
      }
      if (paused) break;
      if (process->exit_code() != 0) {
        // Not a failure of the copy: the partial copy stays, and the copy sends the file whole.
        log_->warn("Could not continue '{}' from its partial copy ({}{}); it is copied whole", target,
                   rsync_exit_meaning(process->exit_code()),
                   err.empty() ? std::string() : ": " + fmt::format("{}", fmt::join(last_error_lines(err, 3), " | ")));
        continue;
      }
      // Complete and checked by rsync (and read back by the verification later): only now
      // does it take its real name. The copy that follows finds it up to date.
      ports_.fs.rename(dest + "/" + partial, dest + "/" + target);
      // Copied by this run, though no copy pass will report it: the copy finds it up to date.
      files_offset_ += 1;
      bytes_offset_ += *want - *have;
      files_done_ = files_offset_;
      on_progress(bytes_offset_, false);
      // rsync removes a partial dir it has emptied; this one was emptied here.
      (void)ports_.fs.remove_empty_directory(dest + "/" + partial.substr(0, partial.rfind('/')));
    }
    if (!paused) return std::nullopt;
    if (!pause_for_veeam()) {
      RsyncEnd end;
      end.kind = ports_.stop.stop_requested() ? RsyncEnd::Kind::stopped : RsyncEnd::Kind::veeam_wait_timed_out;
      return end;
    }
  }
}

void Job::remove_empty_partial_dirs_left() {
  try {
    if (const std::size_t n = remove_empty_partial_dirs(ports_.fs, copy_root()))
      log_->info("Removed {} empty '{}' director{} that a stopped rsync left behind", n, kRsyncPartialDir,
                 n == 1 ? "y" : "ies");
  } catch (const std::system_error& e) {
    // The copy itself is complete; a leftover empty directory is untidy, not wrong.
    log_->warn("Could not remove empty '{}' directories: {}", kRsyncPartialDir, e.what());
  }
}

}  // namespace ubc
