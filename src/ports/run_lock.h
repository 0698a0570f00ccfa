// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace ubc {

enum class LockResult {
  taken,              // created and locked
  taken_over_stale,   // the file was there but nobody held it: the last run died
  busy,               // a live process holds it
};

// The run lock in the repository (DESIGN.md §4 step 5): a file held with flock while
// copying. Opened with O_NOFOLLOW | O_CLOEXEC.
class RunLock {
 public:
  virtual ~RunLock() = default;
  // Throws std::system_error when the file cannot be created or locked.
  virtual LockResult acquire(const std::string& path) = 0;
  // Deletes the file, then drops the lock. Throws std::system_error if deleting fails.
  virtual void release_and_remove() = 0;
  virtual bool held() const = 0;
};

// One job per disk, one copy at a time (DESIGN.md §4 step 2). Held until release() or the
// process ends.
class JobSlots {
 public:
  virtual ~JobSlots() = default;
  // False: this disk already has a job.
  virtual bool claim_disk(const std::string& uuid) = 0;
  // False: another disk is being copied now; try again later.
  virtual bool try_claim_copy() = 0;
  virtual void release() = 0;
};

}  // namespace ubc
