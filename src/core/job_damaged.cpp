// SPDX-License-Identifier: MIT
// Damaged files and restore points. A file a check found damaged keeps the source's size
// and mtime, and rsync's --link-dest takes any file of equal size and mtime in the newest
// restore point for the same file: it hard-links the damaged one into the new point —
// even over a good copy already there (rsync 3.2 relinks it) — and verify = written, which
// keeps the sums of unchanged files, would carry its stale sum on. So after each copy pass
// those files are unlinked from the new copy and copied anew by a pass without --link-dest,
// and the read-back checks them (Job::verify drops their old sums).
#include <spdlog/spdlog.h>

#include <utility>

#include "core/format.h"
#include "core/job.h"
#include "core/text.h"

namespace ubc {

std::optional<Job::State> Job::copy_damaged_anew() {
  if (link_dest_.empty()) return std::nullopt;
  std::uint64_t unlinked = 0;
  for (const std::string& path : damaged_paths())
    if (ports_.fs.remove(copy_root() + "/" + path)) ++unlinked;
  if (unlinked == 0) return std::nullopt;
  log_->info("Copying {} that the last check found damaged anew, not linked to '{}'",
             count_of(unlinked, "file", "files"), link_dest_);
  // Without --link-dest rsync sends what is missing and leaves the links already made.
  const std::string link_dest = std::exchange(link_dest_, std::string());
  bytes_offset_ = bytes_done_;
  files_offset_ = files_done_;
  RsyncOutputReader reader;
  const RsyncEnd end = run_rsync(RsyncMode::copy, reader);
  link_dest_ = link_dest;
  if (end.kind != RsyncEnd::Kind::exited || (end.exit_code != 0 && end.exit_code != 24))
    return rsync_failed("The copy of the damaged files", end);
  if (const auto stats = parse_rsync_stats(reader.text())) {
    report_.bytes_copied += stats->transferred_file_size;
    report_.files_copied += stats->regular_files_transferred;
  }
  return std::nullopt;
}

}  // namespace ubc
