// SPDX-License-Identifier: MIT
// Restore points: their names, which of them go to make room, and the job that builds a
// new one in in-progress, renames it when verified, and moves a mirror into the first one.
#include "core/restore_points.h"

#include <algorithm>

#include "core/manifest.h"
#include "core/rsync.h"
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(RestorePointNameTest, IsTheRunsStartInUtcWithoutColons) {
  EXPECT_EQ(restore_point_name(1'800'000'000), "2027-01-15T080000Z");
  EXPECT_EQ(restore_point_name(1'700'000'000), "2023-11-14T221320Z");
  EXPECT_TRUE(is_restore_point_name("2027-01-15T080000Z"));
  EXPECT_FALSE(is_restore_point_name("latest"));
  EXPECT_FALSE(is_restore_point_name("2027-01-15T08:00:00Z"));
  EXPECT_FALSE(is_restore_point_name("2027-01-15T080000Z.tmp"));
  EXPECT_FALSE(is_restore_point_name("2027-01-15T08000xZ"));
}

TEST(RestorePointNameTest, NamesSortAsTheirTimes) {
  const auto points = sorted_points({{"2027-01-15T080000Z"}, {"2023-11-14T221320Z"}, {"2027-01-15T080000Z"}});
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points.front().name, "2023-11-14T221320Z");
}

TEST(RestorePointFilesystemTest, OnlyUnixFilesystemsHoldThem) {
  for (const char* fs : {"ext4", "xfs", "btrfs"}) EXPECT_TRUE(restore_points_possible(fs)) << fs;
  for (const char* fs : {"vfat", "exfat", "ntfs3"}) EXPECT_FALSE(restore_points_possible(fs)) << fs;
  EXPECT_THAT(describe_restore_points(3), HasSubstr("vfat, exfat and ntfs disks will mirror"));
  EXPECT_THAT(describe_restore_points(1), HasSubstr("mirrors the source"));
}

TEST(RestorePointJsonTest, RecordAndStateRoundTrip) {
  const RestorePoint p{"2027-01-15T080000Z", 1'800'000'000, 12, 3456, true};
  EXPECT_EQ(restore_point_from_json(to_json(p)), p);
  DiskState s;
  s.state = "complete";
  s.restore_points = {p};
  const std::string json = to_json(s);
  EXPECT_THAT(json, HasSubstr("\"latest\": \"2027-01-15T080000Z\""));
  EXPECT_EQ(disk_state_from_json(json)->restore_points, std::vector<RestorePoint>{p});
  DiskState mirror;
  mirror.state = "complete";
  EXPECT_THAT(to_json(mirror), Not(HasSubstr("restore_points"))) << "a mirror's state.json is as it was";
}

// What removing the k oldest of five frees: 10 per point.
std::uint64_t ten_each(std::size_t k) { return 10 * k; }

TEST(RetentionTest, KeepsAtMostNMinusOneOldPointsBesideTheNewOne) {
  const RetentionChoice c = choose_retention(5, 3, 0, 100, ten_each);
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.remove, 3u);
}

TEST(RetentionTest, RemovesNothingWhenTheCopyFitsAndFewerThanNExist) {
  const RetentionChoice c = choose_retention(2, 5, 50, 100, [](std::size_t) -> std::uint64_t {
    ADD_FAILURE() << "nothing to measure when nothing goes";
    return 0;
  });
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.remove, 0u);
}

TEST(RetentionTest, RemovesTheOldestUntilTheCopyFits) {
  const RetentionChoice c = choose_retention(5, 10, 125, 100, ten_each);
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.remove, 3u);
  EXPECT_EQ(c.freed, 30u);
}

TEST(RetentionTest, NeverRemovesTheNewestAndSaysWhenNothingMakesRoom) {
  const RetentionChoice c = choose_retention(5, 10, 1000, 100, ten_each);
  EXPECT_FALSE(c.fits);
  EXPECT_EQ(c.freed, 40u) << "what the four old ones would free";
  const RetentionChoice only = choose_retention(1, 2, 1000, 100, ten_each);
  EXPECT_FALSE(only.fits);
  EXPECT_EQ(only.remove, 0u);
}

TEST(RetentionTest, PointsSharingTheirFilesFreeLittle) {
  // Hard-linked files free nothing until the last point holding them goes.
  const auto shared = [](std::size_t k) -> std::uint64_t { return k < 3 ? 1 : 80; };
  const RetentionChoice c = choose_retention(4, 10, 150, 100, shared);
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.remove, 3u);
}

TEST(RsyncArgvTest, LinksToTheNewestPointByAnAbsolutePath) {
  Config config;
  config.backup_source = "/srv/veeam";
  const auto argv = build_rsync_argv(config, "xfs", "/mnt/.usb-backup-copier/in-progress", RsyncMode::copy,
                                     "/mnt/2027-01-15T080000Z");
  EXPECT_THAT(argv, Contains("--link-dest=/mnt/2027-01-15T080000Z"));
  EXPECT_EQ(argv.back(), "/mnt/.usb-backup-copier/in-progress/");
  EXPECT_THAT(build_rsync_argv(config, "xfs", "/mnt", RsyncMode::copy), Not(Contains(HasSubstr("--link-dest"))));
}

const std::string kInProgress = std::string(kMount) + "/.usb-backup-copier/in-progress";
const std::string kOld = "2023-11-14T221320Z";
const std::string kNew = "2027-01-15T080000Z";  // the fake clock's start

class RestorePointJobTest : public JobTest {
 protected:
  RestorePointJobTest() {
    config_.restore_points = 3;
    fs_.journal_ = &journal_;
    processes_.runs_ = {dry_run(1, 4), copy_writing({{"jobs/backup.vbk", "data"}})};
  }
  // The copy rsync, writing files into the in-progress copy as the real one would.
  ScriptedRun copy_writing(const std::map<std::string, std::string>& files) {
    ScriptedRun run = copy_run(4, 1);
    run.chunks.front().action = [this, files] {
      for (const auto& [path, content] : files) fs_.files_[kInProgress + "/" + path] = content;
    };
    return run;
  }
  bool journal_has(const std::string& entry) const {
    return std::find(journal_.begin(), journal_.end(), entry) != journal_.end();
  }
  std::vector<std::string> journal_;
};

TEST_F(RestorePointJobTest, TheFirstPointIsBuiltInProgressThenRenamedAndNamedLatest) {
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  ASSERT_EQ(processes_.started_.size(), 2u);
  for (const auto& argv : processes_.started_) {
    EXPECT_EQ(argv.back(), kInProgress + "/");
    EXPECT_THAT(argv, Not(Contains(HasSubstr("--link-dest")))) << "nothing to link to yet";
  }
  EXPECT_EQ(disk().at(kNew + "/jobs/backup.vbk"), "data");
  EXPECT_EQ(parse_sha256sums(disk().at(kNew + "/" + kManifestFile)).entries.count("jobs/backup.vbk"), 1u)
      << "the point carries its own manifest, relative to its root";
  EXPECT_FALSE(disk().count(kManifestFile)) << "no mirror manifest at the disk's root";
  EXPECT_EQ(fs_.symlinks_.at(std::string(kMount) + "/latest"), kNew) << "relative";
  const auto state = disk_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, "complete");
  ASSERT_EQ(state->restore_points.size(), 1u);
  EXPECT_EQ(state->restore_points[0].name, kNew);
  EXPECT_EQ(state->restore_points[0].files, 1u);
  EXPECT_EQ(state->restore_points[0].bytes, 4u);
  EXPECT_TRUE(state->restore_points[0].verified);
  // Verified, then renamed, then the link, then "complete".
  const auto pos = [&](const std::string& prefix) {
    return std::find_if(journal_.begin(), journal_.end(), [&](const auto& e) { return e.rfind(prefix, 0) == 0; }) -
           journal_.begin();
  };
  EXPECT_LT(pos("write " + kInProgress + "/" + kManifestFile), pos("rename " + kInProgress));
  EXPECT_LT(pos("rename " + kInProgress), pos("symlink"));
  const auto complete_written =
      std::find(journal_.rbegin(), journal_.rend(), "write " + std::string(kMount) + "/" + kDiskStateFile);
  EXPECT_LT(pos("symlink"), journal_.rend() - complete_written - 1);
}

TEST_F(RestorePointJobTest, TheNextPointLinksToTheNewestAndStartsWithItsSums) {
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  fs_.files_[std::string(kSource) + "/jobs/backup.vbk"] = "data";
  processes_.runs_ = {dry_run(0, 0), copy_writing({{"jobs/backup.vbk", "data"}})};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  ASSERT_EQ(processes_.started_.size(), 2u) << "an unchanged source still gets its restore point";
  for (const auto& argv : processes_.started_)
    EXPECT_THAT(argv, Contains("--link-dest=" + std::string(kMount) + "/" + kOld));
  EXPECT_TRUE(hasher_.copies_read_.empty()) << "the linked file keeps the older point's sum";
  EXPECT_EQ(disk().at(kOld + "/jobs/backup.vbk"), "data") << "the older point stays";
  EXPECT_EQ(disk().at(kNew + "/jobs/backup.vbk"), "data");
  EXPECT_EQ(disk_state()->restore_points.size(), 2u);
  ASSERT_EQ(r.restore_points.size(), 2u) << "the mail lists them";
  EXPECT_EQ(r.restore_points.back().name, kNew);
}

TEST_F(RestorePointJobTest, AStoppedCopyLeavesEveryPointAndLatestAsTheyWere) {
  point_on_disk(kOld, {{"jobs/backup.vbk", "old"}});
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete", "finished_at": 1700000000})";
  ScriptedRun copy = copy_writing({{"jobs/backup.vbk", "da"}});
  copy.chunks[1].action = [this] { stop_.requested_ = true; };
  processes_.runs_ = {dry_run(1, 4), copy};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted) << r.reason;
  EXPECT_EQ(disk().at(kOld + "/jobs/backup.vbk"), "old");
  EXPECT_EQ(disk().at(".usb-backup-copier/in-progress/jobs/backup.vbk"), "da") << "kept for the next run";
  EXPECT_FALSE(disk().count(kNew + "/" + kPointRecordFile));
  EXPECT_TRUE(fs_.symlinks_.empty()) << "latest is not touched";
  EXPECT_EQ(disk_state()->state, "incomplete");
  EXPECT_EQ(disk_state()->restore_points.size(), 1u);
}

TEST_F(RestorePointJobTest, TheMassDeleteGuardComparesWithTheNewestPoint) {
  point_on_disk(kOld, {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"jobs/backup.vbk", "data"}});
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("would delete 3 of the 4 files"));
  EXPECT_FALSE(journal_has("rename " + kInProgress + " " + std::string(kMount) + "/" + kNew));
}

TEST_F(RestorePointJobTest, OldestPointsGoWhenTheNewCopyDoesNotFitButNeverTheNewest) {
  point_on_disk("2020-01-01T000000Z", {{"jobs/backup.vbk", "x"}});
  point_on_disk("2021-01-01T000000Z", {{"jobs/backup.vbk", "y"}});
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  fs_.space_[kMount] = SpaceInfo{10ULL << 20, 20ULL << 20};  // less than the 16 MiB margin
  config_.free_space_threshold_gb = 0;
  // The two oldest are measured together: 7 MiB freed makes room.
  fs_.sizes_[std::string(kMount) + "/2020-01-01T000000Z/jobs/backup.vbk"] = 4ULL << 20;
  fs_.sizes_[std::string(kMount) + "/2021-01-01T000000Z/jobs/backup.vbk"] = 3ULL << 20;
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(journal_has("remove-tree " + std::string(kMount) + "/.usb-backup-copier/deleting-2020-01-01T000000Z"));
  EXPECT_TRUE(journal_has("remove-tree " + std::string(kMount) + "/.usb-backup-copier/deleting-2021-01-01T000000Z"));
  EXPECT_EQ(disk().at(kOld + "/jobs/backup.vbk"), "data");
  const auto state = disk_state();
  ASSERT_EQ(state->restore_points.size(), 2u);
  EXPECT_EQ(state->restore_points[0].name, kOld);
  EXPECT_EQ(state->restore_points[1].name, kNew);
}

TEST_F(RestorePointJobTest, ACopyThatCannotFitEvenWithoutOldPointsFailsWithTheFiguresAndTouchesNothing) {
  point_on_disk("2021-01-01T000000Z", {{"jobs/backup.vbk", "y"}});
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  fs_.space_[kMount] = SpaceInfo{1ULL << 20, 20ULL << 20};
  std::uint64_t older = 0;  // every file of the older point: the fake shares none
  for (const auto& [path, content] : mounter_.disks_[kDev])
    if (path.rfind("2021-01-01T000000Z/", 0) == 0) older += content.size();
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("Not enough space on the disk for a new restore point"));
  EXPECT_THAT(r.reason, HasSubstr("deleting the 1 older restore point"));
  EXPECT_THAT(r.reason, HasSubstr("the disk has 1.00 MiB (1048576 bytes) free"));
  EXPECT_THAT(r.reason, HasSubstr("would free " + std::to_string(older) + " B"));
  EXPECT_EQ(disk().at("2021-01-01T000000Z/jobs/backup.vbk"), "y");
  for (const auto& e : journal_) {
    EXPECT_THAT(e, Not(HasSubstr("remove-tree")));
    EXPECT_THAT(e, Not(HasSubstr("rename")));
  }
  EXPECT_EQ(processes_.started_.size(), 1u) << "only the dry run";
}

TEST_F(RestorePointJobTest, AMirrorMovesIntoItsFirstRestorePointByRenamesBeforeTheCopy) {
  mounter_.disks_[kDev]["jobs/backup.vbk"] = "data";
  mounter_.disks_[kDev]["jobs/old.vbk"] = "old";
  mounter_.disks_[kDev][kManifestFile] = FakeFileHasher::digest("data") + "  jobs/backup.vbk\n";
  mounter_.disks_[kDev][kDiskStateFile] =
      R"({"state": "complete", "finished_at": 1700000000, "last_complete_at": 1700000000})";
  fs_.files_[std::string(kSource) + "/jobs/old.vbk"] = "old";
  processes_.runs_ = {dry_run(0, 0), copy_writing({{"jobs/backup.vbk", "data"}, {"jobs/old.vbk", "old"}})};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(journal_has("rename " + std::string(kMount) + "/jobs " + std::string(kMount) +
                          "/.usb-backup-copier/migrating/jobs"));
  EXPECT_EQ(disk().at(kOld + "/jobs/old.vbk"), "old");
  EXPECT_TRUE(disk().count(kOld + "/" + kManifestFile)) << "the mirror's manifest goes with it";
  EXPECT_FALSE(disk().count("jobs/backup.vbk")) << "nothing of the mirror is left at the root";
  for (const auto& argv : processes_.started_)
    EXPECT_THAT(argv, Contains("--link-dest=" + std::string(kMount) + "/" + kOld));
  const auto state = disk_state();
  ASSERT_EQ(state->restore_points.size(), 2u);
  EXPECT_EQ(state->restore_points[0].name, kOld);
  EXPECT_EQ(state->restore_points[0].files, 2u);
}

TEST_F(RestorePointJobTest, OneRestorePointOnADiskThatHoldsThemIsRefused) {
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  config_.restore_points = 1;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("restore-points = 1 would mirror"));
  EXPECT_EQ(processes_.started_.size(), 0u);
}

TEST_F(RestorePointJobTest, AFatDiskIsMirroredWithAWarning) {
  devices_.devices_.front().fstype = "exfat";
  mounter_.disks_[kDev]["jobs/backup.vbk"] = "data";  // what the mirror copy leaves
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_THAT(r.warnings, Contains(HasSubstr("Restore points need a Unix filesystem; mirroring")));
  EXPECT_EQ(processes_.started_.back().back(), std::string(kMount) + "/");
  EXPECT_TRUE(disk_state()->restore_points.empty());
}

TEST_F(RestorePointJobTest, AFileVerifyFoundDamagedInTheNewestPointIsCopiedAnewNotLinkedAndReadBack) {
  config_.state_directory = "/var/lib/usb-backup-copier";
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}, {"jobs/other.vbk", "oo"}});
  hasher_.corrupt_.insert(std::string(kMount) + "/" + kOld + "/jobs/backup.vbk");
  ASSERT_EQ(run_job({JobRequest::By::device, kDev, false, JobAction::verify}).outcome, Outcome::failed);

  hasher_.corrupt_.clear();
  hasher_.copies_read_.clear();
  fs_.files_[std::string(kSource) + "/jobs/backup.vbk"] = "data";
  fs_.files_[std::string(kSource) + "/jobs/other.vbk"] = "oo";
  // rsync links both: the damaged file has the source's size and time.
  bool linked_copy_gone = false;
  ScriptedRun anew = copy_writing({{"jobs/backup.vbk", "data"}});
  anew.chunks.front().action = [this, &linked_copy_gone, write = anew.chunks.front().action] {
    linked_copy_gone = !fs_.files_.count(kInProgress + "/jobs/backup.vbk");
    write();
  };
  processes_.runs_ = {dry_run(0, 0), copy_writing({{"jobs/backup.vbk", "data"}, {"jobs/other.vbk", "oo"}}), anew};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  ASSERT_EQ(processes_.started_.size(), 3u);
  EXPECT_THAT(processes_.started_[1], Contains("--link-dest=" + std::string(kMount) + "/" + kOld));
  EXPECT_THAT(processes_.started_[2], Not(Contains(HasSubstr("--link-dest")))) << "copied anew, not linked";
  EXPECT_EQ(processes_.started_[2].back(), kInProgress + "/");
  EXPECT_TRUE(linked_copy_gone) << "the link rsync made is removed first";
  EXPECT_TRUE(logged("Copying 1 file that the last check found damaged anew", r)) << r.run_log;
  EXPECT_FALSE(logged("Removed 0 files", r)) << "nothing to remove from a new point: nothing said";
  EXPECT_EQ(hasher_.copies_read_, std::vector<std::string>{kInProgress + "/jobs/backup.vbk"})
      << "read back despite its old sum; the undamaged file keeps its sum";
  EXPECT_EQ(disk().at(kNew + "/jobs/backup.vbk"), "data");

  // Done with: the next copy links everything again.
  processes_.runs_ = {dry_run(0, 0), copy_writing({{"jobs/backup.vbk", "data"}, {"jobs/other.vbk", "oo"}})};
  clock_.advance(std::chrono::hours(1));
  ASSERT_EQ(run_job().outcome, Outcome::success);
  EXPECT_EQ(processes_.started_.size(), 5u);
}

TEST_F(RestorePointJobTest, VerifyChecksTheNewestPoint) {
  point_on_disk("2021-01-01T000000Z", {{"jobs/backup.vbk", "y"}});
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  const JobReport r = run_job({JobRequest::By::device, kDev, false, JobAction::verify});
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(hasher_.copies_read_, std::vector<std::string>{std::string(kMount) + "/" + kOld + "/jobs/backup.vbk"});
}

TEST_F(RestorePointJobTest, VerifyAllChecksEveryPointAgainstItsOwnManifestAndSaysWhatEachHolds) {
  const std::string oldest = "2021-01-01T000000Z";
  point_on_disk(oldest, {{"jobs/backup.vbk", "y"}});
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  hasher_.corrupt_.insert(std::string(kMount) + "/" + oldest + "/jobs/backup.vbk");
  ASSERT_EQ(run_job({JobRequest::By::device, kDev, false, JobAction::verify}).outcome, Outcome::success)
      << "the newest alone is good";

  hasher_.copies_read_.clear();
  const JobReport r = run_job({JobRequest::By::device, kDev, false, JobAction::verify, true});
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(exit_code(r), 1);
  EXPECT_EQ(hasher_.copies_read_, (std::vector<std::string>{std::string(kMount) + "/" + oldest + "/jobs/backup.vbk",
                                                            std::string(kMount) + "/" + kOld + "/jobs/backup.vbk"}));
  EXPECT_THAT(r.reason, HasSubstr("1 of the 2 restore points on the disk do not match"));
  EXPECT_THAT(r.reason, HasSubstr("'" + oldest + "': 1 file differs or cannot be read, 0 files are missing: "
                                  "'jobs/backup.vbk' differs from the manifest"));
  EXPECT_THAT(r.reason, HasSubstr("'" + kOld + "': 1 file (4 B) match"));
  EXPECT_EQ(r.verification->files_checked, 2u);
  EXPECT_EQ(r.verification->mismatches, 1u);
  EXPECT_EQ(r.verification->problems.at(0), "'" + oldest + "': 'jobs/backup.vbk' differs from the manifest");
  EXPECT_FALSE(fs_.files_.count(config_.state_directory + "/damaged-" + kUuid + ".sha256"))
      << "only damage in the newest point is for the next copy to replace";
}

TEST_F(RestorePointJobTest, VerifyAllPassesWhenEveryPointIsWholeAndFailsOnAPointWithoutManifest) {
  point_on_disk("2021-01-01T000000Z", {{"jobs/backup.vbk", "y"}});
  point_on_disk(kOld, {{"jobs/backup.vbk", "data"}});
  const JobReport good = run_job({JobRequest::By::device, kDev, false, JobAction::verify, true});
  ASSERT_EQ(good.outcome, Outcome::success) << good.reason;
  EXPECT_THAT(good.reason, HasSubstr("Checked all 2 restore points, 2 files"));

  mounter_.disks_[kDev].erase("2021-01-01T000000Z/" + std::string(kManifestFile));
  const JobReport r = run_job({JobRequest::By::device, kDev, false, JobAction::verify, true});
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("'2021-01-01T000000Z' holds no checksum manifest"));
  EXPECT_THAT(r.reason, HasSubstr("'" + kOld + "': 1 file (4 B) match"));
}

}  // namespace
}  // namespace ubc::test
