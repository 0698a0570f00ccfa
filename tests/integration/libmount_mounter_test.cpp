// SPDX-License-Identifier: MIT
// LibmountMounter against real filesystems on loop devices. Root only.
#include "sys/libmount_mounter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "support/loop_disk.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using test::LoopDisk;
using test::random_fs_uuid;

// What the copy job passes: nothing on the disk is executed, followed or trusted.
const std::string job_options = "nosuid,nodev,noexec,nosymfollow,noatime";
// FAT and exFAT have no owners: everything belongs to root and only root may read it.
const std::string fat_options = ",uid=0,gid=0,umask=077";

// An empty directory to mount on. Whatever is still mounted there when the test ends
// (a failed assertion) is detached first, so removing the directory never reaches into a
// mounted disk.
class ScratchMountPoint {
 public:
  ScratchMountPoint() : path_(test::make_temp_dir("ubc-mnt")) {}
  ~ScratchMountPoint() {
    while (::umount2(path_.c_str(), MNT_DETACH) == 0) {
    }
    test::remove_tree(path_);
  }
  ScratchMountPoint(const ScratchMountPoint&) = delete;
  ScratchMountPoint& operator=(const ScratchMountPoint&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The working directory is process-wide: put it back whatever happens.
class CwdGuard {
 public:
  CwdGuard() : fd_(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~CwdGuard() {
    if (fd_) (void)::fchdir(fd_.get());
  }
  CwdGuard(const CwdGuard&) = delete;
  CwdGuard& operator=(const CwdGuard&) = delete;

 private:
  UniqueFd fd_;
};

// The kernel's view, read with findmnt rather than the code under test.
std::vector<std::string> findmnt_options(const std::string& column, const std::string& target) {
  std::string out = test::run_ok({"findmnt", "-n", "-o", column, "--mountpoint", target});
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::vector<std::string> options;
  std::istringstream in(out);
  for (std::string option; std::getline(in, option, ',');) options.push_back(option);
  return options;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool kernel_has_filesystem(const std::string& fstype) {
  std::ifstream in("/proc/filesystems");
  for (std::string line; std::getline(in, line);)
    if (line.substr(line.find('\t') + 1) == fstype) return true;
  return false;
}

std::uint64_t sectors_written(const std::string& devnode) {
  const std::string name = devnode.substr(devnode.rfind('/') + 1);
  std::istringstream in(test::read_file("/sys/block/" + name + "/stat"));
  std::uint64_t field[7] = {};
  for (auto& f : field) in >> f;
  return field[6];  // sectors written
}

class LibmountMounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::running_as_root()) << "integration tests need root (loop devices, mount)";
  }
  LibmountMounter mounter_;
};

class LibmountMounterFsTest : public LibmountMounterTest,
                              public ::testing::WithParamInterface<const char*> {};

TEST_P(LibmountMounterFsTest, MountsWithTheJobsOptionsAndUnmounts) {
  const std::string fstype = GetParam();
  ASSERT_TRUE(kernel_has_filesystem(fstype))
      << "this kernel has no '" << fstype << "' driver (not in /proc/filesystems): run the "
      << "integration tests on a kernel with it, e.g. Debian's (the e2e VM)";
  const bool fat = fstype == "vfat" || fstype == "exfat";
  LoopDisk disk(fstype, random_fs_uuid(fstype), "UBCMNT", fstype == "xfs" ? 300 : 64);
  ScratchMountPoint target;

  mounter_.mount(disk.devnode(), target.path(), fstype, job_options + (fat ? fat_options : ""));

  const auto vfs = findmnt_options("VFS-OPTIONS", target.path());
  for (const char* option : {"rw", "nosuid", "nodev", "noexec", "nosymfollow", "noatime"})
    EXPECT_TRUE(contains(vfs, option)) << option << " missing from " << ::testing::PrintToString(vfs);
  if (fat) {
    const auto fs = findmnt_options("FS-OPTIONS", target.path());
    EXPECT_TRUE(contains(fs, "fmask=0077")) << ::testing::PrintToString(fs);
    EXPECT_TRUE(contains(fs, "dmask=0077")) << ::testing::PrintToString(fs);
  }
  EXPECT_EQ(mounter_.mount_points_of(disk.devnode()), std::vector<std::string>{target.path()});
  test::write_file(target.path() + "/written", "data");
  EXPECT_EQ(test::read_file(target.path() + "/written"), "data");

  EXPECT_EQ(mounter_.unmount(target.path(), false), UnmountResult::done);
  EXPECT_TRUE(mounter_.mount_points_of(disk.devnode()).empty());
}

// ext4 and xfs only: the kernels these tests run on here have no vfat or exfat driver
// (kernel_has_filesystem), so mounting those is not tested yet; the VM layer, whose kernel
// is Debian's, is where such a test belongs.
INSTANTIATE_TEST_SUITE_P(Filesystems, LibmountMounterFsTest,
                         ::testing::Values("ext4", "xfs"),
                         [](const auto& param_info) { return std::string(param_info.param); });

TEST_F(LibmountMounterTest, NosymfollowRefusesSymlinksOnTheDisk) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "links", 32);
  ScratchMountPoint target;
  mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
  test::write_file(target.path() + "/file", "x");
  ASSERT_EQ(::symlink("file", (target.path() + "/link").c_str()), 0);

  UniqueFd fd(::open((target.path() + "/link").c_str(), O_RDONLY | O_CLOEXEC));

  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(errno, ELOOP);
}

TEST_F(LibmountMounterTest, MountPointsOfFindsEveryMountOfTheDeviceUnderAnyName) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "twice", 32);
  LoopDisk other("ext4", random_fs_uuid("ext4"), "other", 32);
  ScratchMountPoint first, second, elsewhere, links;
  mounter_.mount(disk.devnode(), first.path(), "ext4", job_options);
  mounter_.mount(disk.devnode(), second.path(), "ext4", job_options);
  mounter_.mount(other.devnode(), elsewhere.path(), "ext4", job_options);
  const std::string link = links.path() + "/by-name";
  ASSERT_EQ(::symlink(disk.devnode().c_str(), link.c_str()), 0);

  const std::vector<std::string> expected{first.path(), second.path()};
  EXPECT_EQ(mounter_.mount_points_of(disk.devnode()), expected);
  EXPECT_EQ(mounter_.mount_points_of(link), expected);
  EXPECT_EQ(mounter_.mount_points_of(other.devnode()), std::vector<std::string>{elsewhere.path()});
}

TEST_F(LibmountMounterTest, UnmountIsBusyWhileAFileIsOpenAndDoneAfterwards) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "busy", 32);
  ScratchMountPoint target;
  mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
  test::write_file(target.path() + "/open", "held");
  UniqueFd held(::open((target.path() + "/open").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(held.valid());

  EXPECT_EQ(mounter_.unmount(target.path(), false), UnmountResult::busy);
  EXPECT_EQ(mounter_.mount_points_of(disk.devnode()), std::vector<std::string>{target.path()});

  held.reset();
  EXPECT_EQ(mounter_.unmount(target.path(), false), UnmountResult::done);
}

TEST_F(LibmountMounterTest, UnmountIsBusyWhileTheWorkingDirectoryIsInside) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "cwd", 32);
  ScratchMountPoint target;
  mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
  {
    CwdGuard cwd;
    ASSERT_EQ(::chdir(target.path().c_str()), 0);
    EXPECT_EQ(mounter_.unmount(target.path(), false), UnmountResult::busy);
  }
  EXPECT_EQ(mounter_.unmount(target.path(), false), UnmountResult::done);
}

TEST_F(LibmountMounterTest, LazyUnmountDetachesABusyMountAtOnce) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "lazy", 32);
  ScratchMountPoint target;
  mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
  test::write_file(target.path() + "/open", "still readable");
  UniqueFd held(::open((target.path() + "/open").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(held.valid());

  EXPECT_EQ(mounter_.unmount(target.path(), true), UnmountResult::done);

  EXPECT_TRUE(mounter_.mount_points_of(disk.devnode()).empty());
  char buffer[64] = {};
  EXPECT_EQ(::pread(held.get(), buffer, sizeof buffer, 0), 14);
  EXPECT_EQ(std::string(buffer), "still readable");
}

TEST_F(LibmountMounterTest, UnmountOfWhatIsNotMountedSaysSo) {
  ScratchMountPoint plain;
  EXPECT_EQ(mounter_.unmount(plain.path(), false), UnmountResult::not_mounted);
  EXPECT_EQ(mounter_.unmount(plain.path() + "/missing", true), UnmountResult::not_mounted);
}

TEST_F(LibmountMounterTest, TheWrongFilesystemTypeThrowsTheLibrarysMessage) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "wrongfs", 32);
  ScratchMountPoint target;
  try {
    mounter_.mount(disk.devnode(), target.path(), "xfs", job_options);
    FAIL() << "an ext4 disk mounted as xfs";
  } catch (const MountError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("wrong fs type"), std::string::npos) << what;
    EXPECT_NE(what.find(disk.devnode()), std::string::npos) << what;
  }
  EXPECT_TRUE(mounter_.mount_points_of(disk.devnode()).empty());
}

TEST_F(LibmountMounterTest, OptionsTheFilesystemDoesNotKnowAreRefused) {
  // ext4 has owners: the FAT options must not be passed to it.
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "badopt", 32);
  ScratchMountPoint target;
  EXPECT_THROW(mounter_.mount(disk.devnode(), target.path(), "ext4", job_options + fat_options),
               MountError);
  EXPECT_TRUE(mounter_.mount_points_of(disk.devnode()).empty());
}

TEST_F(LibmountMounterTest, AMissingMountPointThrows) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "notarget", 32);
  ScratchMountPoint parent;
  const std::string missing = parent.path() + "/missing";
  try {
    mounter_.mount(disk.devnode(), missing, "ext4", job_options);
    FAIL() << "mounted on a directory that does not exist";
  } catch (const MountError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mount point does not exist"), std::string::npos) << what;
    EXPECT_NE(what.find(missing), std::string::npos) << what;
  }
}

TEST_F(LibmountMounterTest, AWriteProtectedDiskIsAnErrorNotAReadOnlyMount) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "readonly", 32);
  ScratchMountPoint target;
  test::run_ok({"blockdev", "--setro", disk.devnode()});
  struct SetRwAgain {
    std::string devnode;
    ~SetRwAgain() { (void)test::run({"blockdev", "--setrw", devnode}); }
  } set_rw_again{disk.devnode()};

  try {
    mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
    FAIL() << "a write-protected disk was mounted";
  } catch (const MountError& e) {
    EXPECT_NE(std::string(e.what()).find("write-protected"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(mounter_.mount_points_of(disk.devnode()).empty());
}

TEST_F(LibmountMounterTest, SyncWritesDirtyDataToTheDisk) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "sync", 64);
  ScratchMountPoint target;
  mounter_.mount(disk.devnode(), target.path(), "ext4", job_options);
  test::write_file(target.path() + "/payload", std::string(4 << 20, 'x'));
  const std::uint64_t before = sectors_written(disk.devnode());

  mounter_.sync(target.path());

  // 4 MiB of file data is 8192 sectors; the page cache held them until now.
  EXPECT_GE(sectors_written(disk.devnode()), before + 8192);
}

TEST_F(LibmountMounterTest, SyncOfAMissingPathThrows) {
  ScratchMountPoint parent;
  EXPECT_THROW(mounter_.sync(parent.path() + "/missing"), std::system_error);
}

TEST_F(LibmountMounterTest, TheMountTableHasEveryMountWithItsOptions) {
  const auto table = read_mount_table();
  const auto root = std::find_if(table.begin(), table.end(),
                                 [](const MountEntry& e) { return e.target == "/"; });
  ASSERT_NE(root, table.end());
  EXPECT_FALSE(root->fstype.empty());
  EXPECT_FALSE(root->options.empty());
}

}  // namespace
}  // namespace ubc
