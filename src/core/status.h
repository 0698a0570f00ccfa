// SPDX-License-Identifier: MIT
// The live status of one job: written to /run/usb-backup-copier/<uuid>.json, shown by
// `status`, sent to systemd as STATUS=.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/json.h"

namespace ubc {

// A status file is small; anything bigger in its place is not ours.
inline constexpr std::size_t kStatusMaxBytes = 64 * 1024;

enum class Phase {
  starting,
  queued,
  waiting_for_veeam,
  mounting,
  estimating,
  copying,
  paused_for_veeam,
  syncing,    // the disk's filesystem is being synced
  verifying,  // what was written is read back and compared with the source
  finishing,
  done,
};

const char* to_string(Phase phase);

struct Status {
  std::string uuid;
  std::string label;
  std::string devnode;
  int pid = 0;
  Phase phase = Phase::starting;
  std::string detail;  // "waiting for Veeam job 'Nightly'", "queued behind disk X", ...
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  double rate_bytes_per_second = 0;
  std::optional<std::int64_t> eta_seconds;
  std::int64_t started_at = 0;
  std::int64_t updated_at = 0;
};

// One line for `systemctl status`: "copying 12.3 GiB of 40.0 GiB (30%), 95.2 MiB/s, 5 min left".
std::string status_line(const Status& status);
Json status_json(const Status& status);
std::string to_json(const Status& status);
std::optional<Status> status_from_json(const std::string& json);

}  // namespace ubc
