// SPDX-License-Identifier: MIT
// metrics-textfile: after every run, the per-disk metrics of render_metrics written whole
// for node_exporter's textfile collector, which may read the file at any moment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"
#include "ports/file_system.h"
#include "ports/history.h"

namespace ubc {

// Nothing when metrics-textfile is off or the file was written; otherwise what went wrong.
// Never throws: monitoring must not touch the copy's result. The file has no running-job
// samples: the run that writes it has ended and knows of no other (`serve`'s /metrics has them).
std::optional<std::string> write_metrics_textfile(const Config& config, History& history, FileSystem& fs,
                                                  std::int64_t now);

}  // namespace ubc
