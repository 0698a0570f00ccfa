// SPDX-License-Identifier: MIT
// FAT and exFAT disks: times pinned to UTC, names in UTF-8.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

class JobFatTest : public JobTest {
 protected:
  void use_fstype(const char* fstype) { devices_.devices_[0].fstype = fstype; }

  // The mount call of a whole, successful copy onto a disk of this type.
  std::string mounted_with(const char* fstype) {
    use_fstype(fstype);
    processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
    const JobReport r = run_job();
    EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
    return mounter_.calls_.empty() ? std::string() : mounter_.calls_.front();
  }
};

TEST_F(JobFatTest, MountsVfatWithItsTimesInUtcAndUtf8Names) {
  EXPECT_THAT(mounted_with("vfat"),
              HasSubstr("vfat nosuid,nodev,noexec,nosymfollow,noatime,uid=0,gid=0,umask=077,tz=UTC,utf8"));
}

TEST_F(JobFatTest, MountsExfatWithTimesWithoutAnOffsetInUtcAndUtf8Names) {
  EXPECT_THAT(mounted_with("exfat"),
              HasSubstr("exfat nosuid,nodev,noexec,nosymfollow,noatime,uid=0,gid=0,umask=077,"
                        "time_offset=0,iocharset=utf8"));
}

TEST_F(JobFatTest, LeavesTimeOptionsToFilesystemsThatKeepUtc) {
  for (const char* fstype : {"ext4", "xfs", "btrfs", "ntfs3"}) {
    const std::string options = mount_options_for(fstype);
    EXPECT_EQ(options.find("tz="), std::string::npos) << fstype;
    EXPECT_EQ(options.find("time_offset"), std::string::npos) << fstype;
  }
}

}  // namespace
}  // namespace ubc::test
