// SPDX-License-Identifier: MIT
#include "core/metrics_textfile.h"

#include <exception>

#include "core/metrics.h"

namespace ubc {

std::optional<std::string> write_metrics_textfile(const Config& config, History& history, FileSystem& fs,
                                                  std::int64_t now) {
  if (config.metrics_textfile.empty()) return std::nullopt;
  try {
    StatusOverview overview;
    overview.now = now;
    overview.last_runs = history.last_run_per_disk();
    // 0644: node_exporter runs as its own user.
    fs.write_atomic(config.metrics_textfile, render_metrics(config, overview, history.last_success_per_disk()), 0644);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace ubc
