// SPDX-License-Identifier: MIT
// The copier's side of the Veeam lease directory: a shared flock on copier.active while it
// reads the repository, and an inotify watch that sees leases arrive. The protocol, and how
// the job uses the gate, are in docs/veeam-protocol.md.
#pragma once

#include <chrono>
#include <string>

#include "core/config.h"
#include "ports/veeam_gate.h"
#include "sys/lease_directory.h"
#include "sys/unique_fd.h"

namespace ubc {

// Not thread-safe; threads each use their own object (the locks are per open file, so
// objects exclude each other like separate processes do).
class DirectoryVeeamGate final : public VeeamGate {
 public:
  // `disk` is written into copier.active for veeam-lock's messages (may be empty). Nothing
  // is opened until the first call.
  explicit DirectoryVeeamGate(const Config& config, std::string disk = {});
  ~DirectoryVeeamGate() override;  // leaves
  DirectoryVeeamGate(const DirectoryVeeamGate&) = delete;
  DirectoryVeeamGate& operator=(const DirectoryVeeamGate&) = delete;

  // All throw std::system_error naming the failing call.
  // Under the coordination lock: removes expired leases (returned in `expired`); with live
  // leases returns them; else takes a shared flock on copier.active, writes our pid and
  // disk into it and returns entered. Called while entered, it leaves first.
  GateResult try_enter() override;
  // Closes copier.active, which drops the lock. The file stays.
  void leave() override;
  // One non-blocking read of the inotify queue: true once a lease has been created or
  // renamed into the directory since try_enter entered, and until the next try_enter. A
  // queue overflow or a lost watch answers true as well: when unsure, yield.
  bool lease_appeared() override;
  // poll() on the inotify fd: returns when a file is created, renamed or deleted in the
  // directory, on a signal, or after `timeout`.
  void wait_for_change(std::chrono::milliseconds timeout) override;

 private:
  void ensure_watch();
  // Reads the queued inotify events; true when one was a lease arriving (or the watch
  // cannot be trusted any more).
  bool drain_events();

  LeaseDirectorySettings settings_;
  std::string disk_;
  UniqueFd active_fd_;   // copier.active, locked while entered
  UniqueFd inotify_fd_;  // watch on the directory, created on first need
  bool appeared_ = false;
};

}  // namespace ubc
