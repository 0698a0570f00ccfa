// SPDX-License-Identifier: MIT
// `verify` (DESIGN.md §3, §8): the disk, mounted read-only, checked against the checksum
// manifest its copy carries, every file read from the device. A mirror has one copy; a
// disk with restore points has one per point, each with its own manifest: the newest is
// checked, or with `verify --all` every one, each reported on its own.
#include <spdlog/spdlog.h>

#include <map>
#include <system_error>

#include "core/disk_state.h"
#include "core/format.h"
#include "core/job.h"
#include "core/rsync.h"
#include "core/text.h"

namespace ubc {

namespace {

// "'2026-11-29T184219Z': 3 files (4.02 MiB) match" — one point's line in the result.
std::string point_finding(const std::string& name, bool checked, const VerificationReport& v) {
  const std::string point = quoted_path(name);
  if (!checked) return point + " " + v.problems.front() + ": not checked";
  if (!v.failed())
    return point + ": " + count_of(v.files_checked, "file", "files") + " (" + format_bytes(v.bytes_read) + ") match";
  return point + ": " + count_of(v.mismatches, "file differs", "files differ") + " or cannot be read, " +
         count_of(v.missing, "file is", "files are") + " missing: " + v.problem_summary(v.mismatches + v.missing);
}

void add_to(VerificationReport& total, const VerificationReport& v, const std::string& point) {
  total.files_checked += v.files_checked;
  total.bytes_read += v.bytes_read;
  total.mismatches += v.mismatches;
  total.missing += v.missing;
  total.unlisted += v.unlisted;
  total.seconds += v.seconds;
  for (const auto& problem : v.problems) total.add_problem(point.empty() ? problem : quoted_path(point) + ": " + problem);
}

}  // namespace

Job::State Job::check_disk(bool all_points) {
  const auto points = find_restore_points();
  report_.restore_points = points;  // the history keeps what the disk held (status, web page)
  std::vector<std::string> names;  // the restore points to check; none: the disk's root
  if (all_points)
    for (const auto& p : points) names.push_back(p.name);
  else if (!points.empty())
    names.push_back(points.back().name);
  VerificationReport& total = report_.verification.emplace();
  total.mode = "manifest";

  if (names.size() <= 1) {
    if (all_points && names.empty()) log_->info("The disk holds no restore points; checking its copy");
    if (!names.empty()) {
      copy_root_ = config_.backup_destination + "/" + names.front();
      log_->info("Checking the newest restore point '{}'", names.front());
    }
    VerificationReport v;
    std::vector<std::string> damaged;
    const CopyCheck end = check_copy(v, damaged, names.empty() ? std::string() : names.front());
    if (end == CopyCheck::cancelled) return stopped_from_outside();
    add_to(total, v, {});
    if (end == CopyCheck::no_manifest)
      return stop(Outcome::failed, "The disk " + v.problems.front(),
                  "Copy to it once with verify = written or all (written is the default); then it can be checked");
    if (v.failed()) {
      remember_damaged(damaged);
      return stop(Outcome::failed,
                  "The disk's copy does not match its manifest: " + count_of(v.mismatches, "file", "files") +
                      " differ or cannot be read, " + count_of(v.missing, "file is", "files are") +
                      " missing: " + v.problem_summary(v.mismatches + v.missing),
                  "The disk, its enclosure or its cable may corrupt data: check 'dmesg' and the disk's health "
                  "(smartctl). Plug the disk in for a copy: the damaged files are copied anew");
    }
    report_.outcome = report_.warnings.empty() ? Outcome::success : Outcome::warning;
    report_.reason = "Checked " + count_of(v.files_checked, "file", "files") + " (" + format_bytes(v.bytes_read) +
                     ") read from the disk: all match the manifest";
    log_->info("{}", report_.reason);
    return State::done;
  }

  log_->info("Checking all {} on the disk, oldest first", count_of(names.size(), "restore point", "restore points"));
  std::vector<std::string> findings;
  std::size_t bad = 0;
  for (const std::string& name : names) {
    copy_root_ = config_.backup_destination + "/" + name;
    log_->info("Checking the restore point '{}'", name);
    VerificationReport v;
    std::vector<std::string> damaged;
    const CopyCheck end = check_copy(v, damaged, name);
    if (end == CopyCheck::cancelled) return stopped_from_outside();
    add_to(total, v, name);
    findings.push_back(point_finding(name, end == CopyCheck::checked, v));
    if (end == CopyCheck::no_manifest || v.failed()) {
      ++bad;
      log_->error("{}", findings.back());
    } else {
      log_->info("{}", findings.back());
    }
    // Only the newest is the base of the next copy, which replaces its damaged files.
    if (name == names.back()) remember_damaged(damaged);
  }
  const std::string all = join(findings, "; ");
  if (bad > 0)
    return stop(Outcome::failed,
                std::to_string(bad) + " of the " + std::to_string(names.size()) +
                    " restore points on the disk do not match their manifests or cannot be checked: " + all,
                "The disk, its enclosure or its cable may corrupt data: check 'dmesg' and the disk's health "
                "(smartctl). A copy replaces damaged files of the newest restore point only; restore from "
                "a point that checks good");
  report_.outcome = report_.warnings.empty() ? Outcome::success : Outcome::warning;
  report_.reason = "Checked all " + std::to_string(names.size()) + " restore points, " +
                   count_of(total.files_checked, "file", "files") + " (" + format_bytes(total.bytes_read) +
                   ") read from the disk: all match their manifests: " + all;
  log_->info("{}", report_.reason);
  return State::done;
}

// The copy at copy_root() against its own manifest; point: its name for the log ("" the disk's).
Job::CopyCheck Job::check_copy(VerificationReport& v, std::vector<std::string>& damaged, const std::string& point) {
  const std::string root = copy_root() + "/";
  const std::string where = point.empty() ? "on the disk" : "in the restore point " + quoted_path(point);
  v.mode = "manifest";
  std::optional<std::string> text;
  try {
    text = ports_.fs.read_file(root + kManifestFile, kManifestMaxBytes);
  } catch (const std::system_error& e) {
    v.add_problem(std::string("has a checksum manifest that cannot be read: ") + e.what());
    return CopyCheck::no_manifest;
  }
  if (!text) {
    v.add_problem(std::string("holds no checksum manifest ('") + kManifestFile + "')");
    return CopyCheck::no_manifest;
  }
  ParsedManifest manifest = parse_sha256sums(*text);
  text.reset();
  for (int line : manifest.bad_lines) {
    ++v.mismatches;
    v.add_problem("line " + std::to_string(line) + " of the manifest is not a checksum line");
  }
  std::map<std::string, FileStamp> on_disk;
  for (auto& f : files_on_disk()) on_disk.emplace(std::move(f.path), f.stamp);
  std::uint64_t total = 0;
  for (const auto& [path, entry] : manifest.entries)
    if (auto it = on_disk.find(path); it != on_disk.end()) total += it->second.size;
  log_->info("Checking {} files ({}) against {} manifest, read from the disk", manifest.entries.size(),
             format_bytes(total), point.empty() ? "the disk's" : "its");
  const auto started = now();
  start_progress(Phase::verifying, total);
  verified_bytes_before_file_ = 0;
  for (const auto& [path, entry] : manifest.entries) {
    const auto it = on_disk.find(path);
    if (it == on_disk.end()) {
      ++v.missing;
      v.add_problem(quoted_path(path) + " is missing");
      continue;
    }
    const HashOutcome copy = ports_.hasher.hash_copy(root + path, [this](std::uint64_t bytes) { return keep_verifying(bytes); });
    if (copy.kind == HashOutcome::Kind::cancelled) return CopyCheck::cancelled;
    verified_bytes_before_file_ += it->second.size;
    v.bytes_read += copy.bytes;
    ++v.files_checked;
    if (copy.kind != HashOutcome::Kind::ok) {
      ++v.mismatches;
      v.add_problem(quoted_path(path) + " cannot be read (" + copy.error + ")");
      damaged.push_back(path);
    } else if (copy.sha256 != entry.sha256) {
      ++v.mismatches;
      v.add_problem(quoted_path(path) + " differs from the manifest");
      damaged.push_back(path);
    }
  }
  on_progress(verified_bytes_before_file_, true);
  v.seconds = std::chrono::duration_cast<std::chrono::seconds>(now() - started).count();
  std::vector<std::string> unlisted;
  for (const auto& [path, stamp] : on_disk)
    if (!manifest.entries.count(path) && path.find(std::string(kRsyncPartialDir) + "/") == std::string::npos)
      unlisted.push_back(quoted_path(path));
  v.unlisted = unlisted.size();
  if (!unlisted.empty()) {
    std::string names;
    for (std::size_t i = 0; i < unlisted.size() && i < VerificationReport::kMaxListedProblems; ++i)
      names += (i ? ", " : "") + unlisted[i];
    if (unlisted.size() > VerificationReport::kMaxListedProblems)
      names += " (and " + std::to_string(unlisted.size() - VerificationReport::kMaxListedProblems) + " more)";
    warn(count_of(unlisted.size(), "file", "files") + " " + where + (unlisted.size() == 1 ? " is" : " are") +
         " not in the manifest (written by something else, or by a copy that did not finish): " + names);
  }
  return CopyCheck::checked;
}

}  // namespace ubc
