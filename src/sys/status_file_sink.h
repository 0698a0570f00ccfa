// SPDX-License-Identifier: MIT
// Live status: runtime_directory/<uuid>.json, replaced atomically on every publish, and
// the one-line STATUS= that `systemctl status` shows.
#pragma once

#include <string>
#include <vector>

#include "ports/status_sink.h"

namespace ubc {

class StatusFileSink final : public StatusSink {
 public:
  explicit StatusFileSink(std::string runtime_directory);
  StatusFileSink(const StatusFileSink&) = delete;
  StatusFileSink& operator=(const StatusFileSink&) = delete;

  // Throws std::system_error naming the call and path when the file cannot be written or
  // renamed into place. sd_notify is best effort (no NOTIFY_SOCKET outside systemd).
  void publish(const Status& status) override;
  // A missing file is fine.
  void clear(const std::string& uuid) override;

 private:
  std::string directory_;
};

// The status of every job that is still running, oldest first. Files that do not parse and
// files whose process is gone (a job killed hard cannot remove its file) are skipped. A
// missing directory means no jobs.
std::vector<Status> read_all_status(const std::string& runtime_directory);

}  // namespace ubc
