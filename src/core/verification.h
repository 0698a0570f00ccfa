// SPDX-License-Identifier: MIT
// Which files a verification reads back, and the manifest it leaves (DESIGN.md §4 step 9).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/manifest.h"

namespace ubc {

struct DiskFile {
  std::string path;  // relative to the copy's root
  FileStamp stamp;
};

struct VerificationPlan {
  Manifest kept;                 // sums still true: the file has not changed since
  std::vector<DiskFile> to_check;  // read back and compare with the source
  std::uint64_t bytes_to_check = 0;
};

// `written`: a file keeps its sum when the manifest has it with the size and mtime the
// file still has; every other file was written by this run (or by one that never
// finished) and is checked. `all`: every file is checked. Files inside rsync's partial
// directories are not part of the copy.
// `known` is taken apart: its kept entries move into the plan.
VerificationPlan plan_verification(VerifyMode mode, std::vector<DiskFile> on_disk, Manifest known);

// A file name as logs and mails show it, quoted: 'a/b' (see printable_path).
std::string quoted_path(std::string_view path);

}  // namespace ubc
