// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <vector>

#include "fakes/fake_file_system.h"
#include "ports/mounter.h"

namespace ubc::test {

// Disks are file maps (relative path -> content); mounting one places its files in the
// FakeFileSystem under the target, unmounting takes them back, so tests can inspect what
// the job left on the disk.
class FakeMounter final : public Mounter {
 public:
  explicit FakeMounter(FakeFileSystem& fs) : fs_(fs) {}

  std::vector<std::string> mount_points_of(const std::string& devnode) override {
    auto it = elsewhere_.find(devnode);
    return it == elsewhere_.end() ? std::vector<std::string>{} : it->second;
  }
  void mount(const std::string& devnode, const std::string& target, const std::string& fstype,
             const std::string& options) override {
    calls_.push_back("mount " + devnode + " " + target + " " + fstype + " " + options);
    if (!fail_mount_.empty()) throw MountError(fail_mount_);
    for (const auto& [rel, content] : disks_[devnode]) fs_.files_[target + "/" + rel] = content;
    fs_.mountpoints_.insert(target);
    mounted_[target] = devnode;
  }
  UnmountResult unmount(const std::string& target, bool lazy) override {
    calls_.push_back(std::string(lazy ? "umount-lazy " : "umount ") + target);
    if (fs_.journal_) fs_.journal_->push_back("umount " + target);
    if (!mounted_.count(target)) return UnmountResult::not_mounted;
    if (!lazy && busy_unmounts_ > 0) {
      --busy_unmounts_;
      return UnmountResult::busy;
    }
    auto& disk = disks_[mounted_[target]];
    disk.clear();
    const std::string prefix = target + "/";
    for (auto it = fs_.files_.begin(); it != fs_.files_.end();) {
      if (it->first.rfind(prefix, 0) == 0) {
        disk[it->first.substr(prefix.size())] = it->second;
        it = fs_.files_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = fs_.dirs_.begin(); it != fs_.dirs_.end();)
      it = it->rfind(prefix, 0) == 0 ? fs_.dirs_.erase(it) : std::next(it);
    fs_.mountpoints_.erase(target);
    mounted_.erase(target);
    return UnmountResult::done;
  }
  void sync(const std::string& target) override {
    calls_.push_back("sync " + target);
    if (fs_.journal_) fs_.journal_->push_back("sync " + target);
    if (!fail_sync_.empty()) throw std::system_error(EIO, std::generic_category(), fail_sync_);
  }

  bool is_mounted(const std::string& target) const { return mounted_.count(target) > 0; }

  FakeFileSystem& fs_;
  std::map<std::string, std::map<std::string, std::string>> disks_;  // devnode -> files
  std::map<std::string, std::vector<std::string>> elsewhere_;       // already mounted
  std::map<std::string, std::string> mounted_;                      // target -> devnode
  std::string fail_mount_;  // non-empty: mount throws MountError with this text
  int busy_unmounts_ = 0;   // this many unmounts answer busy first
  std::string fail_sync_;   // non-empty: sync throws std::system_error(EIO) with this text
  std::vector<std::string> calls_;
};

}  // namespace ubc::test
