// SPDX-License-Identifier: MIT
// FAT and exFAT disks: times pinned to UTC, and what they cannot store refused after the
// dry run, before anything is written.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

// A dry run of one ordinary file plus the given itemized lines.
ScriptedRun dry_run_listing(const std::string& itemized) {
  ScriptedRun r;
  r.chunks.push_back({itemized + dry_run_output(1, 10), "", std::chrono::milliseconds(100), {}});
  return r;
}

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

  // A dry run listing `itemized` onto a disk of this type: refused, nothing written.
  JobReport refused_on(const char* fstype, const std::string& itemized) {
    use_fstype(fstype);
    processes_.runs_ = {dry_run_listing(itemized)};
    const JobReport r = run_job();
    expect_refused_untouched(r);
    return r;
  }

  // Refused after the dry run: nothing on the disk, no copy, everything undone, reported.
  void expect_refused_untouched(const JobReport& r) {
    EXPECT_EQ(r.outcome, Outcome::failed);
    EXPECT_FALSE(r.copy_started);
    EXPECT_EQ(processes_.started_.size(), 1u) << "only the dry run ran";
    EXPECT_TRUE(disk().empty()) << "nothing was written, not even the run log";
    expect_undone(r);
    ASSERT_EQ(history_.recorded_.size(), 1u);
    EXPECT_EQ(history_.recorded_[0].outcome, Outcome::failed);
    ASSERT_EQ(mailer_.sent_.size(), 1u) << "no start mail, one end mail";
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

TEST_F(JobFatTest, RefusesAFileTooLargeForVfatBeforeWritingAnything) {
  const JobReport r = refused_on("vfat", ">f+++++++++ 5368709120 jobs/server-full.vbk\n"
                                         ">f+++++++++ 4294967295 jobs/just-fits.vbk\n");
  EXPECT_THAT(r.reason, HasSubstr("1 file or folder of the source cannot be stored on the disk's vfat "
                                  "filesystem: 'jobs/server-full.vbk' (5.00 GiB; vfat holds files up to "
                                  "4 GiB - 1 byte); nothing was written to the disk"));
  EXPECT_THAT(r.advice, HasSubstr("rsync-excludes-file"));
  EXPECT_THAT(r.advice, HasSubstr("exFAT"));
  EXPECT_THAT(mailer_.sent_[0].subject, HasSubstr("FAILED: 1 file or folder"));
  EXPECT_THAT(mailer_.sent_[0].body, HasSubstr("jobs/server-full.vbk"));
}

TEST_F(JobFatTest, RefusesNamesExfatCannotStoreListingTwentyAndCountingTheRest) {
  std::string listing = "cd+++++++++ 4096 Jobs: Nightly/\n";
  for (int i = 0; i < 24; ++i) listing += ">f+++++++++ 1 Jobs: Nightly/f" + std::to_string(i) + "?.vib\n";
  listing += ">f+++++++++ 6000000000 jobs/big-is-fine-on-exfat.vbk\n";
  const JobReport r = refused_on("exfat", listing);
  EXPECT_THAT(r.reason, HasSubstr("25 files or folders of the source cannot be stored on the disk's exfat "
                                  "filesystem: 'Jobs: Nightly/' (':' is not allowed), 'Jobs: Nightly/f0?.vib' "
                                  "('?' is not allowed)"));
  EXPECT_THAT(r.reason, HasSubstr("'Jobs: Nightly/f18?.vib' ('?' is not allowed) and 5 more"));
  EXPECT_EQ(r.reason.find("big-is-fine"), std::string::npos);
  EXPECT_EQ(r.advice.find("exFAT"), std::string::npos) << "no file is too large";
}

TEST_F(JobFatTest, CopiesTheSameNamesOntoExt4) {
  processes_.runs_ = {dry_run_listing(">f+++++++++ 5368709120 a:b?.vbk\n"), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
}

TEST_F(JobFatTest, KeepsCheckingWhenTheDryRunStartsOverAfterAVeeamPause) {
  use_fstype("vfat");
  ScriptedRun first = dry_run(1, 10);
  first.chunks[0].out = "cd+++++++++ 4096 jobs/\n";
  first.chunks[0].action = [this] {
    veeam_.appear(FakeVeeamGate::lease("Nightly"));
    veeam_.clear_after_waits_ = veeam_.waits_ + 10;
  };
  first.hang = true;
  processes_.runs_ = {first, dry_run_listing(">f+++++++++ 1 jobs/trailing. \n")};
  const JobReport r = run_job();
  EXPECT_EQ(r.veeam_pauses, 1);
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("'jobs/trailing. ' (ends in a space)"));
  EXPECT_FALSE(disk().count(kDiskStateFile));
  expect_undone(r);
}

}  // namespace
}  // namespace ubc::test
