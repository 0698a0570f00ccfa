// SPDX-License-Identifier: MIT
// UdevDeviceFinder against a real udevd and real filesystems on loop devices.
#include "sys/udev_device_finder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/loop_disk.h"
#include "support/udevd.h"

namespace ubc {
namespace {

using test::LoopDisk;
using test::random_fs_uuid;
using test::ScopedUdevd;

class UdevDeviceFinderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test::running_as_root()) << "integration tests need root (loop devices, udevd)";
    test::shared_udevd();
  }
};

struct FsCase {
  const char* fstype;
  const char* label;
  int size_mib;
};

class UdevDeviceFinderFsTest : public UdevDeviceFinderTest,
                               public ::testing::WithParamInterface<FsCase> {};

TEST_P(UdevDeviceFinderFsTest, FindsTheDiskByDevnodeWithUuidLabelAndType) {
  const FsCase& fs = GetParam();
  const std::string uuid = random_fs_uuid(fs.fstype);
  LoopDisk disk(fs.fstype, uuid, fs.label, fs.size_mib);
  ScopedUdevd::refresh(disk.devnode());

  UdevDeviceFinder finder;
  const auto found = finder.by_devnode(disk.devnode());

  ASSERT_TRUE(found.has_value()) << disk.devnode();
  EXPECT_EQ(found->devnode, disk.devnode());
  // udev reports the UUID in the filesystem's own spelling: lower-case for ext4/xfs,
  // upper-case XXXX-XXXX for FAT and exFAT (random_fs_uuid makes them that way).
  EXPECT_EQ(found->uuid, uuid);
  EXPECT_EQ(found->label, fs.label);
  EXPECT_EQ(found->fstype, fs.fstype);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, UdevDeviceFinderFsTest,
                         ::testing::Values(FsCase{"ext4", "B\xc3\xbcro disk", 32},
                                           FsCase{"xfs", "UBC xfs", 300},
                                           FsCase{"vfat", "UBC VFAT", 32},
                                           FsCase{"exfat", "UBC exfat", 32}),
                         [](const auto& param_info) { return std::string(param_info.param.fstype); });

TEST_F(UdevDeviceFinderTest, FindsTheDiskThroughItsByUuidSymlink) {
  const std::string uuid = random_fs_uuid("ext4");
  LoopDisk disk("ext4", uuid, "byuuid", 32);
  ScopedUdevd::refresh(disk.devnode());
  const std::string link = "/dev/disk/by-uuid/" + uuid;
  ASSERT_TRUE(std::filesystem::is_symlink(link)) << link << " was not created by udev";

  const auto found = UdevDeviceFinder().by_devnode(link);

  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->devnode, disk.devnode());
  EXPECT_EQ(found->uuid, uuid);
}

TEST_F(UdevDeviceFinderTest, AllListsEveryDiskThatCarriesAFilesystem) {
  const std::string ext4_uuid = random_fs_uuid("ext4");
  const std::string vfat_uuid = random_fs_uuid("vfat");
  LoopDisk ext4("ext4", ext4_uuid, "one", 32);
  LoopDisk vfat("vfat", vfat_uuid, "TWO", 32);
  LoopDisk empty_node("ext4", random_fs_uuid("ext4"), "three", 32);
  const std::string detached_devnode = empty_node.devnode();
  empty_node.detach();
  ScopedUdevd::refresh(ext4.devnode());
  ScopedUdevd::refresh(vfat.devnode());
  ScopedUdevd::refresh(detached_devnode);

  const auto devices = UdevDeviceFinder().all();

  const auto find = [&](const std::string& devnode) {
    return std::find_if(devices.begin(), devices.end(),
                        [&](const BlockDevice& d) { return d.devnode == devnode; });
  };
  ASSERT_NE(find(ext4.devnode()), devices.end());
  EXPECT_EQ(find(ext4.devnode())->uuid, ext4_uuid);
  EXPECT_EQ(find(ext4.devnode())->fstype, "ext4");
  ASSERT_NE(find(vfat.devnode()), devices.end());
  EXPECT_EQ(find(vfat.devnode())->uuid, vfat_uuid);
  EXPECT_EQ(find(vfat.devnode())->label, "TWO");
  EXPECT_EQ(find(detached_devnode), devices.end()) << "a detached loop device has no filesystem";
}

TEST_F(UdevDeviceFinderTest, ADetachedDeviceIsNotFound) {
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "pulled", 32);
  ScopedUdevd::refresh(disk.devnode());
  UdevDeviceFinder finder;
  const std::string devnode = disk.devnode();
  ASSERT_TRUE(finder.by_devnode(devnode).has_value());

  disk.detach();
  ScopedUdevd::settle();

  EXPECT_FALSE(finder.by_devnode(devnode).has_value());
}

TEST_F(UdevDeviceFinderTest, ADetachedDeviceIsNotFoundEvenBeforeUdevHasSeenIt) {
  // udev's database still holds the old ID_FS_UUID until it handles the change event; the
  // device's size (0 sectors) already says that the medium is gone.
  LoopDisk disk("ext4", random_fs_uuid("ext4"), "pulled", 32);
  ScopedUdevd::refresh(disk.devnode());
  const std::string devnode = disk.devnode();
  test::run_ok({"udevadm", "control", "--stop-exec-queue"});
  disk.detach();

  const auto found = UdevDeviceFinder().by_devnode(devnode);

  test::run_ok({"udevadm", "control", "--start-exec-queue"});
  ScopedUdevd::settle();
  EXPECT_FALSE(found.has_value());
}

TEST_F(UdevDeviceFinderTest, NothingIsFoundForMissingPathsAndNonBlockDevices) {
  UdevDeviceFinder finder;
  EXPECT_FALSE(finder.by_devnode("/dev/does-not-exist").has_value());
  EXPECT_FALSE(finder.by_devnode("/dev/disk/by-uuid/00000000-0000-4000-a000-000000000000").has_value());
  EXPECT_FALSE(finder.by_devnode("/dev/null").has_value());  // a character device
  EXPECT_FALSE(finder.by_devnode("/tmp").has_value());
}

TEST(DecodeUdevLabelTest, UnescapesHexSequences) {
  EXPECT_EQ(decode_udev_label("My\\x20Disk"), "My Disk");
  EXPECT_EQ(decode_udev_label("a\\x5cb"), "a\\b");
  EXPECT_EQ(decode_udev_label("B\xc3\xbcro"), "B\xc3\xbcro");
}

TEST(DecodeUdevLabelTest, ReplacesControlCharactersAndInvalidUtf8) {
  // A label is chosen by whoever made the filesystem; a newline could forge a log line.
  EXPECT_EQ(decode_udev_label("x\\x0ay"), "x?y");
  EXPECT_EQ(decode_udev_label("\\x1b[31mred"), "?[31mred");
  EXPECT_EQ(decode_udev_label("bad\\xff"), "bad?");
  EXPECT_EQ(decode_udev_label("\\xc0\\xaf"), "??");  // overlong '/'
  EXPECT_EQ(decode_udev_label("cut\\xc3"), "cut?");
}

TEST(DecodeUdevLabelTest, LeavesIncompleteEscapesAlone) {
  EXPECT_EQ(decode_udev_label("\\x2"), "\\x2");
  EXPECT_EQ(decode_udev_label("\\xzz"), "\\xzz");
  EXPECT_EQ(decode_udev_label(""), "");
}

}  // namespace
}  // namespace ubc
