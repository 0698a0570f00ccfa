// SPDX-License-Identifier: MIT
// Locks held with flock(2): the run lock in the repository and the job slots in the runtime
// directory. A lock held by a process that died is free again (the kernel drops flocks
// with the last fd), which is what tells a stale lock file from a live one.
#pragma once

#include <string>

#include "ports/run_lock.h"
#include "sys/unique_fd.h"

namespace ubc {

class FlockRunLock final : public RunLock {
 public:
  FlockRunLock() = default;
  // Drops the lock but leaves the file: only release_and_remove() deletes it, so a run
  // that ends without it shows up as stale next time.
  ~FlockRunLock() override = default;
  FlockRunLock(const FlockRunLock&) = delete;
  FlockRunLock& operator=(const FlockRunLock&) = delete;

  LockResult acquire(const std::string& path) override;
  void release_and_remove() override;
  bool held() const override { return fd_.valid(); }

 private:
  UniqueFd fd_;
  std::string path_;
};

// runtime_directory/disk-<uuid>.lock (one job per disk) and runtime_directory/copy.lock
// (one copy at a time). These files stay in place for good: a lock file that is never
// deleted cannot be swapped under a process waiting for it.
class FlockJobSlots final : public JobSlots {
 public:
  explicit FlockJobSlots(std::string runtime_directory);
  FlockJobSlots(const FlockJobSlots&) = delete;
  FlockJobSlots& operator=(const FlockJobSlots&) = delete;

  // Throws std::system_error when the directory or the slot file cannot be created, or
  // the UUID holds characters a file name must not.
  bool claim_disk(const std::string& uuid) override;
  bool try_claim_copy() override;
  void release() override;

 private:
  std::string directory_;
  std::string disk_uuid_;
  UniqueFd disk_;
  UniqueFd copy_;
};

}  // namespace ubc
