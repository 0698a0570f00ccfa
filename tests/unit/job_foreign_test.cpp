// SPDX-License-Identifier: MIT
// Symlinks, device nodes and FIFOs on the disk that the source does not have: the copy goes
// on (rsync replaces or deletes them) and the report says what was there.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDisk = std::string(kMount) + "/";

TEST_F(JobTest, SaysWhichLinksDeviceNodesAndFifosTheDiskHeldAndCopiesAnyway) {
  fs_.special_[kDisk + "Jobs"] = SpecialKind::symlink;
  fs_.special_[kDisk + "a/null"] = SpecialKind::device;
  fs_.special_[kDisk + "a/pipe"] = SpecialKind::fifo;
  fs_.special_[kDisk + "a/other pipe"] = SpecialKind::fifo;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("The disk held 1 symbolic link, 1 device node, 2 FIFOs that the source "
                                       "does not have (e.g. 'Jobs', 'a/null', 'a/other pipe')"));
  EXPECT_THAT(r.warnings[0], HasSubstr("none was followed or opened"));
  EXPECT_EQ(disk_state()->state, "complete");
}

TEST_F(JobTest, ShowsTheNameOfAForeignEntryWithoutItsControlCharacters) {
  fs_.special_[kDisk + "--delete\n\x1b[2J\xff"] = SpecialKind::fifo;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("1 FIFO that the source does not have ('--delete\\x0a\\x1b[2J\\xff')"));
}

TEST_F(JobTest, TakesTheCopysOwnSymlinksForWhatTheyAre) {
  fs_.special_[kDisk + "latest.vbk"] = SpecialKind::symlink;
  fs_.special_[std::string(kSource) + "/latest.vbk"] = SpecialKind::symlink;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(JobTest, CountsALinkInPlaceOfItsOwnDirectoryButNotTheFilesystemsEntries) {
  fs_.special_[kDisk + ".usb-backup-copier"] = SpecialKind::symlink;
  fs_.special_[kDisk + "lost+found/#1234"] = SpecialKind::device;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_THAT(r.warnings[0], HasSubstr("The disk held 1 symbolic link that the source does not have "
                                       "('.usb-backup-copier')"));
  EXPECT_THAT(r.warnings[0], Not(HasSubstr("lost+found")));
}

TEST_F(JobTest, TakesTheLatestLinkAndTheSymlinksOfRestorePointsForWhatTheyAre) {
  fs_.special_[kDisk + "latest"] = SpecialKind::symlink;
  fs_.special_[kDisk + "2026-11-28T010000Z/Jobs/latest.vbk"] = SpecialKind::symlink;
  fs_.special_[kDisk + ".usb-backup-copier/in-progress/Jobs/latest.vbk"] = SpecialKind::symlink;
  fs_.special_[kDisk + ".usb-backup-copier/deleting-2026-11-01T010000Z/Jobs/latest.vbk"] = SpecialKind::symlink;
  fs_.special_[std::string(kSource) + "/Jobs/latest.vbk"] = SpecialKind::symlink;
  // Foreign all the same: a link the source does not have, inside a point.
  fs_.special_[kDisk + "2026-11-28T010000Z/Jobs/planted"] = SpecialKind::symlink;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("The disk held 1 symbolic link that the source does not have "
                                       "('2026-11-28T010000Z/Jobs/planted')"));
}

TEST(SourcePathOf, StripsTheCopyThatHoldsAnEntry) {
  EXPECT_EQ(source_path_of("2026-11-28T010000Z/Jobs/a.vbk"), "Jobs/a.vbk");
  EXPECT_EQ(source_path_of(".usb-backup-copier/in-progress/Jobs/a.vbk"), "Jobs/a.vbk");
  EXPECT_EQ(source_path_of(".usb-backup-copier/deleting-2026-11-01T010000Z/a"), "a");
  EXPECT_EQ(source_path_of("Jobs/a.vbk"), "Jobs/a.vbk");
  EXPECT_EQ(source_path_of("2026-11-28T010000Z"), "2026-11-28T010000Z");
  EXPECT_EQ(source_path_of("2026-11-28T01000Z/a"), "2026-11-28T01000Z/a");  // not a point's name
  EXPECT_EQ(source_path_of(".usb-backup-copier/in-progress"), ".usb-backup-copier/in-progress");
}

}  // namespace
}  // namespace ubc::test
