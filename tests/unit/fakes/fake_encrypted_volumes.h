// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ports/encrypted_volumes.h"

namespace ubc::test {

// The mapping and key file of the LUKS disk the unit tests use (UUID
// 0a1b2c3d-1111-4222-8333-444455556666, config in /etc/usb-backup-copier).
inline constexpr const char* kLuksMapping = "usb-backup-copier-0a1b2c3d-1111-4222-8333-444455556666";
inline constexpr const char* kLuksMapped = "/dev/mapper/usb-backup-copier-0a1b2c3d-1111-4222-8333-444455556666";
inline constexpr const char* kLuksKeyFile = "/etc/usb-backup-copier/keys/0a1b2c3d-1111-4222-8333-444455556666.key";

// Containers are devnodes with a key and an inner filesystem; opening one with the right
// key file content makes /dev/mapper/<name>. Key files are a map path -> {content, mode,
// owner}, checked as the real adapter checks them.
class FakeEncryptedVolumes final : public EncryptedVolumes {
 public:
  struct Container {
    std::string key;
    std::string fstype = "ext4";
    std::string label;
  };
  struct KeyFile {
    std::string content;
    unsigned mode = 0600;
    unsigned uid = 0;
  };

  OpenedVolume open(const std::string& devnode, const std::string& name,
                    const std::string& key_file) override {
    calls_.push_back("open " + devnode + " " + name + " " + key_file);
    const auto key = key_files_.find(key_file);
    if (key == key_files_.end()) throw VolumeError("there is no key file '" + key_file + "'");
    const std::string fix = "; make it root's alone: 'chown root:root " + key_file + "; chmod 600 " + key_file + "'";
    if (key->second.uid != 0)
      throw VolumeError("the key file '" + key_file + "' is owned by uid " + std::to_string(key->second.uid) +
                        ", not root" + fix);
    if ((key->second.mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", key->second.mode & 07777);
      throw VolumeError("the key file '" + key_file + "' has mode " + mode + ", so others may read it" + fix);
    }
    const auto container = containers_.find(devnode);
    if (container == containers_.end()) throw VolumeError(devnode + " holds no readable LUKS header");
    if (container->second.key != key->second.content)
      throw VolumeError("the key file '" + key_file + "' opens no keyslot of " + devnode);
    if (open_.count(name)) throw VolumeError("the mapping '" + name + "' exists already");
    open_.insert(name);
    const std::string mapped = "/dev/mapper/" + name;
    return OpenedVolume{mapped, container->second.fstype, container->second.label};
  }
  // A container on devnode holding fstype/label, and its root-only key file at kLuksKeyFile.
  void add_luks_disk(const std::string& devnode, const std::string& fstype, const std::string& label) {
    containers_[devnode] = {"the key", fstype, label};
    key_files_[kLuksKeyFile] = {"the key", 0600, 0};
  }
  bool is_open(const std::string& name) override { return open_.count(name) > 0; }
  CloseResult close(const std::string& name) override {
    calls_.push_back("close " + name);
    if (journal_) journal_->push_back("close " + name);
    if (open_.erase(name) == 0) return CloseResult::not_open;
    return busy_ ? CloseResult::deferred : CloseResult::closed;
  }

  std::map<std::string, Container> containers_;  // devnode -> container
  std::map<std::string, KeyFile> key_files_;
  std::set<std::string> open_;
  bool busy_ = false;  // close() answers deferred
  std::vector<std::string>* journal_ = nullptr;  // shared with other fakes: the order of effects
  std::vector<std::string> calls_;
};

}  // namespace ubc::test
