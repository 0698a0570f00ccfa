// SPDX-License-Identifier: MIT
// An encrypted rotation disk: opened with its key file before the mount, closed after the
// unmount on every way out.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;


class JobEncryptedTest : public JobTest {
 protected:
  JobEncryptedTest() {
    devices_.devices_.at(0).fstype = "crypto_LUKS";
    devices_.devices_.at(0).label = "";
    volumes_.add_luks_disk(kDev, "ext4", "OFFSITE-LUKS");
    fs_.journal_ = &journal_;
    volumes_.journal_ = &journal_;
  }
  const std::map<std::string, std::string>& inner_disk() { return mounter_.disks_[kLuksMapped]; }
  std::vector<std::string> journal_;
};

TEST_F(JobEncryptedTest, CopiesThroughTheMappingAndClosesItAfterTheUnmount) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_THAT(mounter_.calls_.front(),
              HasSubstr(std::string("mount ") + kLuksMapped + " /media/usb-backup-copier ext4 nosuid,nodev"));
  EXPECT_THAT(volumes_.calls_, ElementsAre(std::string("open ") + kDev + " " + kLuksMapping + " " + kLuksKeyFile,
                                           std::string("close ") + kLuksMapping));
  EXPECT_TRUE(volumes_.open_.empty());
  const auto umount = std::find(journal_.begin(), journal_.end(), std::string("umount ") + kMount);
  const auto close = std::find(journal_.begin(), journal_.end(), std::string("close ") + kLuksMapping);
  ASSERT_NE(umount, journal_.end());
  ASSERT_NE(close, journal_.end());
  EXPECT_LT(umount - journal_.begin(), close - journal_.begin()) << "closed only after the unmount";
  EXPECT_TRUE(inner_disk().count(kDiskStateFile)) << "the state is written inside the container";
  EXPECT_EQ(r.disk.label, "OFFSITE-LUKS") << "the inner label stands in for the container's missing one";
  expect_undone(r);
}

TEST_F(JobEncryptedTest, AWrongKeyFailsBeforeMountingAndSaysWhereTheKeyGoes) {
  volumes_.key_files_[kLuksKeyFile].content = "another key";
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("Could not open the encrypted disk /dev/sdb1"));
  EXPECT_THAT(r.reason, HasSubstr("opens no keyslot"));
  EXPECT_THAT(r.advice, HasSubstr(kLuksKeyFile));
  EXPECT_THAT(r.advice, HasSubstr("chmod 600"));
  EXPECT_TRUE(mounter_.calls_.empty()) << "nothing mounted, nothing written";
  EXPECT_TRUE(processes_.started_.empty());
  EXPECT_TRUE(volumes_.open_.empty());
  EXPECT_EQ(history_.recorded_.size(), 1u);
  EXPECT_FALSE(mailer_.sent_.empty());
}

TEST_F(JobEncryptedTest, AKeyFileOthersCanReadIsRefused) {
  volumes_.key_files_[kLuksKeyFile].mode = 0644;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("has mode 0644, so others may read it"));
  EXPECT_TRUE(mounter_.calls_.empty());
}

TEST_F(JobEncryptedTest, AMissingKeyFileIsRefused) {
  volumes_.key_files_.clear();
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("no key file"));
  EXPECT_TRUE(volumes_.calls_.size() == 1 && mounter_.calls_.empty());
}

TEST_F(JobEncryptedTest, AMappingLeftByAKilledRunIsClosedFirst) {
  volumes_.open_.insert(kLuksMapping);
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_THAT(r.warnings, Contains(HasSubstr("that an earlier run left open")));
  ASSERT_GE(volumes_.calls_.size(), 2u);
  EXPECT_EQ(volumes_.calls_[0], std::string("close ") + kLuksMapping);
  EXPECT_THAT(volumes_.calls_[1], HasSubstr("open "));
  EXPECT_TRUE(volumes_.open_.empty());
}

TEST_F(JobEncryptedTest, ALeftoverMappingThatIsStillMountedIsNotTouched) {
  volumes_.open_.insert(kLuksMapping);
  mounter_.elsewhere_[kLuksMapped] = {"/media/alice/backup"};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("already open and mounted at '/media/alice/backup'"));
  EXPECT_TRUE(volumes_.calls_.empty());
  EXPECT_TRUE(volumes_.open_.count(kLuksMapping));
}

TEST_F(JobEncryptedTest, SigtermMidCopyClosesTheMapping) {
  ScriptedRun run = copy_run(4000, 4);
  run.chunks[1].action = [this] { stop_.requested_ = true; };
  processes_.runs_ = {dry_run(4, 1000), run};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_TRUE(volumes_.open_.empty());
  EXPECT_EQ(volumes_.calls_.back(), std::string("close ") + kLuksMapping);
  expect_undone(r);
}

TEST_F(JobEncryptedTest, AMappingStillHeldIsLeftToTheKernelWithAWarning) {
  volumes_.busy_ = true;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("the kernel removes it as soon as it is released")));
}

}  // namespace
}  // namespace ubc::test
