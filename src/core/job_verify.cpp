// SPDX-License-Identifier: MIT
// The end of a copy that a restorer can trust (DESIGN.md §4 step 9): the disk's filesystem
// synced, what was written read back from the device and compared with the source, the
// checksum manifest updated; and `verify`, which checks a disk against that manifest.
#include <spdlog/spdlog.h>

#include <system_error>

#include "core/disk_state.h"
#include "core/format.h"
#include "core/job.h"
#include "core/rsync.h"
#include "core/text.h"

namespace ubc {

namespace {

std::string damaged_list_path(const Config& config, const std::string& uuid) {
  return config.state_directory + "/damaged-" + uuid_name_chars(uuid) + ".sha256";
}

}  // namespace

Job::State Job::sync() {
  set_phase(Phase::syncing);
  try {
    ports_.mounter.sync(config_.backup_destination);
  } catch (const std::exception& e) {
    return stop(Outcome::failed,
                std::string("Could not sync the disk's filesystem (") + e.what() + "); its copy is not complete",
                "Check the disk and its cable (see 'dmesg'), then plug it in again");
  }
  log_->info("Synced the disk's filesystem");
  return State::verify;
}

std::vector<DiskFile> Job::files_on_disk() {
  std::vector<DiskFile> files;
  ports_.fs.walk_files(copy_root(), disk_own_entries(),
                       [&](const std::string& path, const FileStamp& stamp) { files.push_back({path, stamp}); });
  return files;
}

Manifest Job::read_disk_manifest(bool with_stamps, const std::string& from) {
  const std::string root = (from.empty() ? copy_root() : from) + "/";
  try {
    const auto sums = ports_.fs.read_file(root + kManifestFile, kManifestMaxBytes);
    if (!sums) return {};
    ParsedManifest parsed = parse_sha256sums(*sums);
    if (!parsed.bad_lines.empty())
      warn("The disk's checksum manifest has " + count_of(parsed.bad_lines.size(), "line", "lines") +
           " that are not checksums (first: line " + std::to_string(parsed.bad_lines.front()) + "); ignoring them");
    if (with_stamps)
      if (const auto stamps = ports_.fs.read_file(root + kManifestStampFile, kManifestMaxBytes))
        apply_stamps(*stamps, parsed.entries);
    return std::move(parsed.entries);
  } catch (const std::system_error& e) {
    // Anything on the disk is hostile: without a manifest every file is simply checked.
    warn(std::string("The disk's checksum manifest could not be read (") + e.what() + "); every file is checked");
    return {};
  }
}

void Job::write_disk_manifest(const Manifest& manifest) {
  const std::string root = copy_root() + "/";
  ports_.fs.make_directories(root + kDiskStateDir, 0755);
  // The stamps first: a manifest whose stamps are missing is only checked in full.
  ports_.fs.write_atomic(root + kManifestStampFile, render_stamps(manifest), 0644);
  ports_.fs.write_atomic(root + kManifestFile, render_sha256sums(manifest), 0644);
}

void Job::remove_disk_manifest() {
  const std::string root = copy_root() + "/";
  (void)ports_.fs.remove(root + kManifestFile);
  (void)ports_.fs.remove(root + kManifestStampFile);
}

bool Job::keep_verifying(std::uint64_t file_bytes_read) {
  on_progress(verified_bytes_before_file_ + file_bytes_read, false);
  if (ports_.stop.stop_requested()) return false;
  if (config_.copy_yields_to_veeam && request_action_ == JobAction::copy && ports_.veeam.lease_appeared())
    return false;
  return true;
}

Job::State Job::verify() {
  if (config_.verify == VerifyMode::none) {
    // A manifest this run did not update would make `sha256sum -c` fail, or worse, pass.
    remove_disk_manifest();
    log_->info("Nothing is read back (verify = none); the disk carries no checksum manifest");
    return State::finish;
  }
  const auto started = now();
  Manifest known = read_disk_manifest(true);
  // A new restore point starts with the sums of the one it links to: a hard-linked file
  // has the same stamp, and is the same file.
  if (known.empty() && !link_dest_.empty()) known = read_disk_manifest(true, link_dest_);
  for (const std::string& path : updated_in_place_) known.erase(path);  // written into: no old sum holds
  // This run's sums win over the manifest's; moved, not copied (100,000 files: megabytes).
  verified_.merge(known);
  known = std::move(verified_);
  verified_.clear();
  // Their old sums are of what the source held, not of what the disk holds: read them back.
  for (const auto& path : damaged_paths()) known.erase(path);
  VerificationPlan plan = plan_verification(config_.verify, files_on_disk(), std::move(known));
  if (!report_.verification) report_.verification.emplace();
  VerificationReport& v = *report_.verification;
  v.mode = to_string(config_.verify);
  v.files_kept = plan.kept.size();
  log_->info("Reading back {} in {} from the disk to compare with the source; {} unchanged keep their sums",
             format_bytes(plan.bytes_to_check), count_of(plan.to_check.size(), "file", "files"),
             count_of(plan.kept.size(), "file", "files"));
  start_progress(Phase::verifying, plan.bytes_to_check);
  verified_bytes_before_file_ = 0;
  Manifest result = std::move(plan.kept);
  std::vector<std::string> damaged;
  for (DiskFile& file : plan.to_check) {
    const CompareOutcome compared = ports_.hasher.compare_and_hash(
        config_.backup_source + "/" + file.path, copy_root() + "/" + file.path,
        [this](std::uint64_t bytes) { return keep_verifying(bytes); });
    const HashOutcome& source = compared.source;
    const HashOutcome& copy = compared.copy;
    v.bytes_read += copy.bytes;
    verified_bytes_before_file_ += file.stamp.size;
    if (copy.kind == HashOutcome::Kind::cancelled) {
      // The sums taken so far stay this run's for the next pass; `result` holds them, and
      // otherwise only sums the next pass would keep from the manifest anyway.
      verified_ = std::move(result);
      v.seconds += std::chrono::duration_cast<std::chrono::seconds>(now() - started).count();
      if (ports_.stop.stop_requested()) return stopped_from_outside();
      // Veeam wants the repository: pause, then copy again what it changed, and check on.
      if (!pause_for_veeam())
        return ports_.stop.stop_requested()
                   ? stopped_from_outside()
                   : stop(Outcome::gave_up,
                          "The verification paused for Veeam and gave up after waiting " +
                              std::to_string(config_.wait_for_veeam_minutes) + " min for " + waiting_for_,
                          "Plug the disk in again after the Veeam job; the copy continues where it stopped");
      log_->info("Copying what Veeam changed, then verifying on");
      return State::estimate;
    }
    // Not in the source: excluded, or vanished since the copy; not part of this copy.
    if (source.kind == HashOutcome::Kind::missing) continue;
    ++v.files_checked;
    std::string problem;
    if (copy.kind != HashOutcome::Kind::ok)
      problem = "cannot be read back (" + copy.error + ")";
    else if (source.kind != HashOutcome::Kind::ok)
      problem = "its source cannot be read (" + source.error + ")";
    else if (!compared.equal)
      problem = "differs from the source";
    if (!problem.empty()) {
      ++v.mismatches;
      v.add_problem(quoted_path(file.path) + " " + problem);
      if (copy.kind != HashOutcome::Kind::ok || source.kind == HashOutcome::Kind::ok) damaged.push_back(file.path);
      continue;
    }
    result.insert_or_assign(std::move(file.path), ManifestEntry{copy.sha256, file.stamp});
  }
  v.seconds += std::chrono::duration_cast<std::chrono::seconds>(now() - started).count();
  on_progress(verified_bytes_before_file_, true);
  try {
    write_disk_manifest(result);
  } catch (const std::exception& e) {
    return stop(Outcome::failed, std::string("Could not write the disk's checksum manifest (") + e.what() +
                                     "); its copy is not complete",
                "Check the disk and its cable (see 'dmesg'), then plug it in again");
  }
  verified_ = std::move(result);
  if (v.mismatches > 0) {
    remember_damaged(damaged);
    return verification_failed();
  }
  log_->info("Verified: {} read back in {}, equal to the source; {} unchanged", format_bytes(v.bytes_read),
             count_of(v.files_checked, "file", "files"), count_of(v.files_kept, "file", "files"));
  return State::finish;
}

Job::State Job::verification_failed() {
  const VerificationReport& v = *report_.verification;
  std::string reason = "Verification failed: " + count_of(v.mismatches, "file", "files") +
                       " on the disk " + (v.mismatches == 1 ? "differs" : "differ") +
                       " from the source or cannot be read: " + v.problem_summary(v.mismatches) +
                       "; the disk's copy is not complete";
  // The disk must not keep saying "complete" about data that is not whole, even when this
  // run wrote nothing.
  try {
    write_disk_state("incomplete", reason);
  } catch (const std::exception& e) {
    warn(std::string("Could not mark the disk's copy incomplete (") + e.what() + ")");
  }
  return stop(Outcome::failed, std::move(reason),
              "The disk, its enclosure or its cable may corrupt data: check 'dmesg' and the disk's health "
              "(smartctl). The damaged files are copied anew when the disk is plugged in again");
}

// The next copy removes these from the disk first: rsync would otherwise take a damaged
// file with the right size and time for a good one and never copy it again.
void Job::remember_damaged(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  Manifest list;
  for (const auto& p : paths) list[p] = ManifestEntry{std::string(64, '0'), std::nullopt};
  try {
    ports_.fs.make_directories(config_.state_directory, 0755);
    ports_.fs.write_atomic(damaged_list_path(config_, disk_.uuid), render_sha256sums(list), 0600);
  } catch (const std::exception& e) {
    warn(std::string("Could not remember the damaged files for the next copy (") + e.what() +
         "); run the next copy with verify = all");
  }
}

std::vector<std::string> Job::damaged_paths() {
  const std::string list_path = damaged_list_path(config_, disk_.uuid);
  std::optional<std::string> text;
  try {
    text = ports_.fs.read_file(list_path, kManifestMaxBytes);
  } catch (const std::exception& e) {
    warn(std::string("Could not read the list of damaged files '") + list_path + "' (" + e.what() + ")");
  }
  std::vector<std::string> paths;
  if (text)
    for (auto& [path, entry] : parse_sha256sums(*text).entries) paths.push_back(path);
  return paths;
}

void Job::replace_damaged() {
  const std::vector<std::string> paths = damaged_paths();
  if (paths.empty()) return;
  std::uint64_t removed = 0;
  for (const auto& path : paths)
    if (ports_.fs.remove(copy_root() + "/" + path)) ++removed;
  // A new restore point holds none of them yet: copy_damaged_anew deals with them there.
  if (removed == 0) return;
  log_->info("Removed {} that the last check found damaged; this copy replaces them",
             count_of(removed, "file", "files"));
}

void Job::forget_damaged() {
  (void)ports_.fs.remove(damaged_list_path(config_, disk_.uuid));
}

}  // namespace ubc
