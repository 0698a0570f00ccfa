// SPDX-License-Identifier: MIT
#include "core/partial_dirs.h"

#include <algorithm>
#include <vector>

#include "core/rsync.h"

namespace ubc {

std::size_t remove_empty_partial_dirs(FileSystem& fs, const std::string& root) {
  const std::string name(kRsyncPartialDir);
  std::vector<std::string> found;
  fs.walk_directories(root, disk_own_entries(), [&](const std::string& relative) {
    const auto slash = relative.rfind('/');
    if (relative.compare(slash == std::string::npos ? 0 : slash + 1, std::string::npos, name) == 0)
      found.push_back(relative);
  });
  // Deepest first: one nested in another leaves its parent empty only once it is gone.
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) { return a > b; });
  std::size_t removed = 0;
  for (const std::string& relative : found)
    if (fs.remove_empty_directory(root + "/" + relative)) ++removed;
  return removed;
}

}  // namespace ubc
