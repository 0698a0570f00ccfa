// SPDX-License-Identifier: MIT
// One behaviour suite for FileSystem::clone_file, run against PosixFileSystem on real xfs
// (reflink) and ext4 (none) loop disks and against the unit tests' FakeFileSystem, so
// that the fake the job's reflink tests stand on cannot drift from the real FICLONE.
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "fakes/fake_file_system.h"
#include "support/loop_disk.h"
#include "sys/posix_file_system.h"

namespace ubc::test {
namespace {

constexpr std::uint64_t kSize = 1 << 20;

// Two filesystems, one that shares blocks and one that does not, each with a directory d.
class CloneWorld {
 public:
  virtual ~CloneWorld() = default;
  virtual FileSystem& fs() = 0;
  virtual std::string reflink_dir() = 0;
  virtual std::string plain_dir() = 0;
  virtual void write(const std::string& path, const std::string& data) = 0;
  virtual std::string read(const std::string& path) = 0;
  virtual void hard_link(const std::string& from, const std::string& to) = 0;
};

class RealCloneWorld final : public CloneWorld {
 public:
  RealCloneWorld()
      : dir_(make_temp_dir("ubc-clone")),
        xfs_("xfs", random_fs_uuid("xfs"), "clone", 300),
        ext4_("ext4", random_fs_uuid("ext4"), "noclone", 32) {
    for (auto* disk : {&xfs_, &ext4_}) {
      const std::string at = dir_ + "/" + disk->fstype();
      std::filesystem::create_directories(at);
      run_ok({"mount", disk->devnode(), at});
      mounts_.push_back(at);
      std::filesystem::create_directories(at + "/d");
    }
  }
  ~RealCloneWorld() override {
    for (const std::string& at : mounts_) (void)::umount2(at.c_str(), MNT_DETACH);
    remove_tree(dir_);
  }
  RealCloneWorld(const RealCloneWorld&) = delete;
  RealCloneWorld& operator=(const RealCloneWorld&) = delete;

  FileSystem& fs() override { return fs_; }
  std::string reflink_dir() override { return dir_ + "/xfs/d"; }
  std::string plain_dir() override { return dir_ + "/ext4/d"; }
  void write(const std::string& path, const std::string& data) override { write_file(path, data); }
  std::string read(const std::string& path) override { return read_file(path); }
  void hard_link(const std::string& from, const std::string& to) override {
    std::filesystem::create_directories(std::filesystem::path(to).parent_path());
    std::filesystem::create_hard_link(from, to);
  }

 private:
  std::string dir_;
  LoopDisk xfs_, ext4_;
  std::vector<std::string> mounts_;
  PosixFileSystem fs_;
};

class FakeCloneWorld final : public CloneWorld {
 public:
  FakeCloneWorld() {
    fs_.reflink_roots_ = {"/xfs"};
    fs_.dirs_ = {"/xfs/d", "/ext4/d"};
  }
  FileSystem& fs() override { return fs_; }
  std::string reflink_dir() override { return "/xfs/d"; }
  std::string plain_dir() override { return "/ext4/d"; }
  void write(const std::string& path, const std::string& data) override { fs_.files_[path] = data; }
  std::string read(const std::string& path) override { return fs_.files_.at(path); }
  void hard_link(const std::string& from, const std::string& to) override {
    fs_.files_[to] = fs_.files_.at(from);
    fs_.linked_elsewhere_.insert(from);
    fs_.linked_elsewhere_.insert(to);
  }

 private:
  FakeFileSystem fs_;
};

template <class World>
class CloneContract : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(running_as_root()) << "the real world mounts loop disks";
    world_ = std::make_unique<World>();
  }
  std::unique_ptr<World> world_;
  CloneWorld& w() { return *world_; }
};

using Worlds = ::testing::Types<RealCloneWorld, FakeCloneWorld>;
TYPED_TEST_SUITE(CloneContract, Worlds);

std::string content(char seed) {
  std::string s(kSize, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return s;
}

TYPED_TEST(CloneContract, ACloneReplacesAHardLinkWithAFileOfItsOwnAndLeavesTheOriginal) {
  const std::string from = this->w().reflink_dir() + "/old.vbk";
  const std::string to = this->w().reflink_dir() + "/new/old.vbk";
  this->w().write(from, content('a'));
  this->w().hard_link(from, to);
  ASSERT_EQ(this->w().fs().bytes_freed_by_removing({this->w().reflink_dir() + "/new"}), 0u) << "linked, so shared";

  ASSERT_TRUE(this->w().fs().clone_file(from, to));

  EXPECT_EQ(this->w().read(to), content('a'));
  EXPECT_EQ(this->w().read(from), content('a'));
  EXPECT_GE(this->w().fs().bytes_freed_by_removing({this->w().reflink_dir() + "/new"}), kSize)
      << "no longer a link of the original";
  EXPECT_EQ(this->w().fs().list_entries(this->w().reflink_dir() + "/new"), std::vector<std::string>{"old.vbk"})
      << "no temporary name left";
  std::vector<FileStamp> stamps;
  this->w().fs().walk_files(this->w().reflink_dir() + "/new", {},
                            [&](const std::string&, const FileStamp& stamp) { stamps.push_back(stamp); });
  EXPECT_EQ(stamps, (std::vector<FileStamp>{{kSize, 0}})) << "modified at the epoch, never up to date by chance";
}

TYPED_TEST(CloneContract, AFilesystemWithoutReflinkSaysSoAndChangesNothing) {
  const std::string from = this->w().plain_dir() + "/old.vbk";
  this->w().write(from, content('b'));

  EXPECT_FALSE(this->w().fs().clone_file(from, this->w().plain_dir() + "/new.vbk"));

  EXPECT_EQ(this->w().fs().list_entries(this->w().plain_dir()), std::vector<std::string>{"old.vbk"});
}

TYPED_TEST(CloneContract, NothingIsSharedAcrossTwoFilesystems) {
  const std::string from = this->w().reflink_dir() + "/old.vbk";
  this->w().write(from, content('c'));

  EXPECT_FALSE(this->w().fs().clone_file(from, this->w().plain_dir() + "/new.vbk"));

  EXPECT_TRUE(this->w().fs().list_entries(this->w().plain_dir()).empty());
}

TYPED_TEST(CloneContract, AMissingSourceOrADirectoryThrows) {
  const std::string dir = this->w().reflink_dir();
  EXPECT_THROW(this->w().fs().clone_file(dir + "/missing", dir + "/new.vbk"), std::system_error);
  EXPECT_THROW(this->w().fs().clone_file(dir, dir + "/new.vbk"), std::system_error);
  EXPECT_EQ(this->w().fs().kind(dir + "/new.vbk"), PathKind::missing);
}

}  // namespace
}  // namespace ubc::test
