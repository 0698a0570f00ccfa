// SPDX-License-Identifier: MIT
#include "core/verification.h"

#include "core/fs_limits.h"
#include "core/rsync.h"

namespace ubc {

namespace {

bool inside_partial_dir(const std::string& path) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) return false;  // the last part is the file itself
    if (std::string_view(path).substr(start, slash - start) == kRsyncPartialDir) return true;
    start = slash + 1;
  }
}

}  // namespace

VerificationPlan plan_verification(VerifyMode mode, std::vector<DiskFile> on_disk, Manifest known) {
  VerificationPlan plan;
  if (mode == VerifyMode::none) return plan;
  // In place, and kept sums moved over rather than copied: with 100,000 files a second list
  // and a copy of the manifest would be megabytes held through the whole verification.
  std::size_t next = 0;
  for (auto& file : on_disk) {
    if (inside_partial_dir(file.path)) continue;
    if (mode == VerifyMode::written) {
      const auto it = known.find(file.path);
      if (it != known.end() && it->second.stamp == file.stamp) {
        plan.kept.insert(known.extract(it));
        continue;
      }
    }
    plan.bytes_to_check += file.stamp.size;
    if (&on_disk[next] != &file) on_disk[next] = std::move(file);
    ++next;
  }
  on_disk.resize(next);
  on_disk.shrink_to_fit();
  plan.to_check = std::move(on_disk);
  return plan;
}

std::string quoted_path(std::string_view path) { return "'" + printable_path(path) + "'"; }

}  // namespace ubc
