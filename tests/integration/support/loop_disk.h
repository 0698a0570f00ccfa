// SPDX-License-Identifier: MIT
// Real disks for integration tests: an image file holding a real filesystem with a chosen
// UUID, attached to a loop device. Root only. Everything is undone by the destructor.
#pragma once

#include <string>
#include <vector>

namespace ubc::test {

// Runs argv (no shell), returns the exit status; stdout+stderr go to *output if given.
int run(const std::vector<std::string>& argv, std::string* output = nullptr);
// As run(), but a non-zero exit throws std::runtime_error with the output.
std::string run_ok(const std::vector<std::string>& argv);

bool running_as_root();
// A fresh directory under /tmp, removed (recursively, not crossing mounts) by the caller.
std::string make_temp_dir(const std::string& prefix);
void remove_tree(const std::string& path);
void write_file(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);

// A random UUID of the form the filesystem uses: 36 chars (ext4, xfs, btrfs),
// XXXX-XXXX (vfat, exfat).
std::string random_fs_uuid(const std::string& fstype);

class LoopDisk {
 public:
  // fstype: ext4, xfs, btrfs, exfat or vfat. xfs needs at least 300 MiB, btrfs 128 MiB.
  LoopDisk(const std::string& fstype, const std::string& uuid, const std::string& label,
           int size_mib);
  ~LoopDisk();
  LoopDisk(const LoopDisk&) = delete;
  LoopDisk& operator=(const LoopDisk&) = delete;

  const std::string& devnode() const { return devnode_; }
  const std::string& uuid() const { return uuid_; }
  const std::string& fstype() const { return fstype_; }
  // The image file that holds the disk: writing into it is writing "underneath" whatever
  // has the filesystem mounted.
  const std::string& image() const { return image_; }

  // Mounts at a temporary directory for inspection and returns it (unmount() undoes it).
  std::string mount_for_inspection();
  void unmount();
  // Detaches the loop device now (the disk "pulled out"); the destructor then skips it.
  void detach();

 private:
  void create(const std::string& fstype, const std::string& uuid, const std::string& label,
              int size_mib);

  std::string fstype_, uuid_, image_, devnode_, inspect_dir_;
};

}  // namespace ubc::test
