// SPDX-License-Identifier: MIT
// Whole disks for `prepare-disk`: what sysfs and the mount table say about one, and writing
// a fresh GPT with one partition through libfdisk.
#pragma once

#include <string>
#include <vector>

#include "core/prepare_disk.h"

namespace ubc {

// The device behind `given` as sysfs describes it. A path that is no block device gives
// facts with is_block_device false. Throws std::system_error when sysfs cannot be read.
DiskFacts read_disk_facts(const std::string& given);

// Everything that holds the disk or one of its partitions: the root filesystem, the
// filesystem holding backup_source, swap areas, any mount. Throws std::system_error.
std::vector<DiskUse> read_disk_uses(const DiskFacts& disk, const std::string& backup_source);

// Replaces the partition table of `devnode` (a whole disk) with a GPT holding one Linux
// filesystem partition over the whole disk, named `name`, and asks the kernel to re-read
// it. Throws std::system_error naming the libfdisk call.
void write_single_partition_gpt(const std::string& devnode, const std::string& name);

// The fresh filesystem mounted at a private directory under /run for as long as this lives
// (nosuid,nodev,noexec,nosymfollow); the destructor unmounts it and removes the directory.
class TemporaryMount {
 public:
  TemporaryMount(const std::string& devnode, const std::string& fstype);
  ~TemporaryMount();
  TemporaryMount(const TemporaryMount&) = delete;
  TemporaryMount& operator=(const TemporaryMount&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ubc
