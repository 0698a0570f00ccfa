// SPDX-License-Identifier: MIT
#pragma once

#include <system_error>
#include <vector>

#include "ports/run_lock.h"

namespace ubc::test {

class FakeRunLock final : public RunLock {
 public:
  LockResult acquire(const std::string& path) override {
    paths_.push_back(path);
    if (fail_create_) throw std::system_error(EACCES, std::generic_category(), "open " + path);
    if (result_ != LockResult::busy) held_ = true;
    return result_;
  }
  void release_and_remove() override {
    ++removals_;
    if (fail_remove_) throw std::system_error(EPERM, std::generic_category(), "unlink");
    held_ = false;
  }
  bool held() const override { return held_; }

  LockResult result_ = LockResult::taken;
  bool fail_create_ = false;
  bool fail_remove_ = false;
  bool held_ = false;
  int removals_ = 0;
  std::vector<std::string> paths_;
};

class FakeJobSlots final : public JobSlots {
 public:
  bool claim_disk(const std::string& uuid) override {
    claimed_disk_ = uuid;
    return !disk_busy_;
  }
  bool try_claim_copy() override {
    ++copy_attempts_;
    if (copy_busy_for_ > 0) {
      --copy_busy_for_;
      return false;
    }
    copy_claimed_ = true;
    return true;
  }
  void release() override {
    ++releases_;
    copy_claimed_ = false;
  }

  bool disk_busy_ = false;
  int copy_busy_for_ = 0;  // this many attempts fail first (another disk is being copied)
  int copy_attempts_ = 0;
  bool copy_claimed_ = false;
  int releases_ = 0;
  std::string claimed_disk_;
};

}  // namespace ubc::test
