// SPDX-License-Identifier: MIT
// The copy job's steps and failures, each with what it must leave behind.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST_F(JobTest, CopiesAWhitelistedDiskAndLeavesItCompleteAndUnmounted) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_EQ(r.bytes_copied, 3000u);
  EXPECT_EQ(r.files_copied, 3u);
  ASSERT_TRUE(r.estimate);
  EXPECT_EQ(r.estimate->bytes_to_copy, 3000u);
  EXPECT_TRUE(r.unmounted);
  ASSERT_TRUE(disk_state());
  EXPECT_EQ(disk_state()->state, "complete");
  EXPECT_EQ(disk_state()->source_host, "repo1");
  EXPECT_TRUE(disk().count(kDiskRunLogFile)) << "the run's log is kept on the disk";
  expect_undone(r);
  EXPECT_EQ(run_lock_.paths_, std::vector<std::string>{"/srv/veeam/.usb-backup-copier.lock"});
  EXPECT_EQ(run_lock_.removals_, 1);
  ASSERT_EQ(history_.recorded_.size(), 1u);
  EXPECT_EQ(history_.recorded_[0].outcome, Outcome::success);
  ASSERT_EQ(mailer_.sent_.size(), 2u) << "a start mail and an end mail";
  EXPECT_THAT(mounter_.calls_.front(), HasSubstr("mount /dev/sdb1 /media/usb-backup-copier ext4 "
                                                 "nosuid,nodev,noexec,nosymfollow,noatime"));
  ASSERT_EQ(processes_.started_.size(), 2u);
  EXPECT_THAT(processes_.started_[0], ::testing::Contains("--dry-run"));
  EXPECT_THAT(processes_.started_[1], ::testing::Contains("--info=progress2"));
  EXPECT_TRUE(status_.saw_phase(Phase::copying));
  EXPECT_TRUE(inhibitor_.releases_ == 1 && inhibitor_.whys_.size() == 1);
}

TEST_F(JobTest, PublishesProgressWithTotalsWhileCopying) {
  ScriptedRun copy;
  copy.chunks = copy_chunks(4000, 4, 12);  // half a second apart: six seconds of copying
  processes_.runs_ = {dry_run(4, 1000), copy};
  run_job();
  bool saw_partial = false;
  for (const auto& s : status_.published_)
    if (s.phase == Phase::copying && s.bytes_done > 0 && s.bytes_done < 4000) {
      saw_partial = true;
      EXPECT_EQ(s.bytes_total, 4000u);
    }
  EXPECT_TRUE(saw_partial);
}

TEST_F(JobTest, LeavesADiskThatIsNotWhitelistedUntouched) {
  devices_.devices_[0].uuid = "99999999-1111-4222-8333-444455556666";
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::not_whitelisted);
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(processes_.started_.empty());
  EXPECT_TRUE(history_.recorded_.empty());
  EXPECT_TRUE(mailer_.sent_.empty());
}

TEST_F(JobTest, FailsClearlyWhenTheDeviceDoesNotExist) {
  const JobReport r = run_job({JobRequest::By::device, "/dev/sdz9", false});
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("/dev/sdz9"));
  EXPECT_EQ(exit_code(r), 1);
}

TEST_F(JobTest, FindsTheDiskByUuidInAnyCase) {
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job({JobRequest::By::uuid, "0a1b2c3d-1111-4222-8333-444455556666", false});
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(r.disk.devnode, kDev);
}

TEST_F(JobTest, AutoTakesTheFirstWhitelistedDiskPresent) {
  devices_.devices_.insert(devices_.devices_.begin(), {"/dev/sda1", "11111111-2222-4333-8444-555555555555", "", "ext4"});
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job({JobRequest::By::first_present, "", false});
  EXPECT_EQ(r.disk.devnode, kDev);
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
}

TEST_F(JobTest, TheSameDiskTwiceEndsTheSecondJobAtOnce) {
  slots_.disk_busy_ = true;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::already_running);
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(mailer_.sent_.empty());
}

TEST_F(JobTest, WaitsQueuedWhileAnotherDiskIsCopied) {
  slots_.copy_busy_for_ = 5;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(status_.saw_phase(Phase::queued));
  EXPECT_EQ(slots_.copy_attempts_, 6);
}

TEST_F(JobTest, GivesUpOnTheQueueAfterItsLimit) {
  config_.wait_for_queue_minutes = 1;
  slots_.copy_busy_for_ = 1000;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::gave_up);
  EXPECT_EQ(exit_code(r), 75);
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_EQ(mailer_.sent_.size(), 1u) << "the admin hears that this disk got no copy";
}

TEST_F(JobTest, RefusesAnEmptySourceAndLeavesTheDiskUntouched) {
  fs_.files_.clear();
  fs_.dirs_.insert(kSource);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("is empty"));
  EXPECT_THAT(r.advice, HasSubstr("not touched"));
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_TRUE(processes_.started_.empty());
}

TEST_F(JobTest, AStaleLockFileAloneStillCountsAsAnEmptySource) {
  fs_.files_.clear();
  fs_.files_[config_.backup_lockfile_path] = "";
  const JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("is empty"));
}

TEST_F(JobTest, RefusesAMissingOrUnreadableSource) {
  fs_.files_.clear();
  JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("does not exist"));
  fs_.files_["/srv/veeam/x"] = "y";
  fs_.unreadable_.insert(kSource);
  r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("cannot be read"));
  EXPECT_TRUE(mounter_.calls_.empty());
}

TEST_F(JobTest, RefusesASourceThatMustBeAMountPointAndIsNot) {
  config_.source_must_be_mountpoint = true;
  JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("not a mount point"));
  fs_.mountpoints_.insert(kSource);
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
}

TEST_F(JobTest, RefusesADiskMountedElsewhere) {
  mounter_.elsewhere_[kDev] = {"/media/alice/OFFSITE1"};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("already mounted at '/media/alice/OFFSITE1'"));
  EXPECT_THAT(r.advice, HasSubstr("automounting"));
  EXPECT_EQ(mounter_.calls_.size(), 0u);
}

TEST_F(JobTest, RefusesAMountPointThatIsNotEmptyOrTaken) {
  fs_.files_[std::string(kMount) + "/stray.txt"] = "x";
  JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("not an empty directory"));
  fs_.files_.erase(std::string(kMount) + "/stray.txt");
  fs_.mountpoints_.insert(kMount);
  r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("already mounted at '/media/usb-backup-copier'"));
  EXPECT_TRUE(mounter_.calls_.empty());
}

TEST_F(JobTest, ReportsTheMountLibrarysMessage) {
  mounter_.fail_mount_ = "wrong fs type, bad option, bad superblock on /dev/sdb1";
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("bad superblock"));
  EXPECT_TRUE(run_lock_.paths_.empty()) << "no lock is taken for a disk that did not mount";
  expect_undone(r);
}

TEST_F(JobTest, RefusesAnUnsupportedFilesystem) {
  devices_.devices_[0].fstype = "hfsplus";
  const JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("'hfsplus' is not supported"));
  EXPECT_TRUE(mounter_.calls_.empty());
}

TEST_F(JobTest, GivesFatFilesystemsOneOwnerAndTheFatRsyncOptions) {
  devices_.devices_[0].fstype = "exfat";
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_THAT(mounter_.calls_.front(), HasSubstr("exfat nosuid,nodev,noexec,nosymfollow,noatime,uid=0,gid=0,umask=077"));
  EXPECT_THAT(processes_.started_[1], ::testing::Contains("--no-owner"));
}

TEST_F(JobTest, TakesOverAStaleLockWithAWarning) {
  run_lock_.result_ = LockResult::taken_over_stale;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_EQ(exit_code(r), 0);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("left by a run that died"));
  EXPECT_EQ(disk_state()->state, "complete");
}

TEST_F(JobTest, AbortsWhenTheLockIsHeldByALiveCopier) {
  run_lock_.result_ = LockResult::busy;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("held by another running copier"));
  EXPECT_EQ(run_lock_.removals_, 0) << "another process's lock is never removed";
  EXPECT_TRUE(processes_.started_.empty());
  expect_undone(r);
}

TEST_F(JobTest, AbortsWhenTheLockCannotBeCreated) {
  run_lock_.fail_create_ = true;
  const JobReport r = run_job();
  EXPECT_THAT(r.reason, HasSubstr("Could not create the lock file"));
  EXPECT_TRUE(processes_.started_.empty());
  expect_undone(r);
}

TEST_F(JobTest, SkipsTheCopyPassWhenNothingChanged) {
  processes_.runs_ = {dry_run(0, 0)};
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete", "finished_at": 1700000000})";
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(processes_.started_.size(), 1u) << "only the dry run";
  EXPECT_EQ(mailer_.sent_.size(), 1u) << "no start mail when nothing is copied";
  EXPECT_EQ(disk_state()->state, "complete");
}

TEST_F(JobTest, RefusesToStartWithoutEnoughSpaceAndSaysHowMuch) {
  fs_.space_[kMount] = SpaceInfo{2000, 1ULL << 30};
  processes_.runs_ = {dry_run(3, 1000)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("(" + std::to_string(3000 + space_margin(*r.estimate)) + " bytes)"));
  EXPECT_GT(space_margin(*r.estimate), 3 * 4096u) << "a block per file at least, for rounding";
  EXPECT_THAT(r.reason, HasSubstr("(2000 bytes) free"));
  EXPECT_FALSE(r.copy_started);
  EXPECT_EQ(processes_.started_.size(), 1u);
  EXPECT_FALSE(disk().count(kDiskStateFile)) << "nothing was written";
  EXPECT_FALSE(disk().count(kDiskRunLogFile)) << "not even the run log";
  expect_undone(r);
}

TEST_F(JobTest, CountsWhatDeletionsFreeAndRoomForAnUpdatedFile) {
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete"})";
  for (int i = 0; i < 4; ++i) mounter_.disks_[kDev]["keep" + std::to_string(i)] = "k";
  mounter_.disks_[kDev]["old/file0.vbk"] = std::string(5000, 'x');
  fs_.space_[kMount] = SpaceInfo{1000 + (17ULL << 20), 1ULL << 30};
  config_.free_space_threshold_gb = 0;
  // 2 new files of 1000 bytes plus a 500-byte update needs 2500 + 500 and the margin (under
  // 17 MiB here); 1000 free beyond the margin + 5000 freed.
  processes_.runs_ = {dry_run(2, 1000, 1, 500), copy_run(2500, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(r.estimate->bytes_to_delete, 5000u);
  EXPECT_EQ(r.estimate->largest_file, 500u);
}

TEST_F(JobTest, RefusesToDeleteMostOfTheDisk) {
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete"})";
  for (int i = 0; i < 3; ++i) mounter_.disks_[kDev]["old/file" + std::to_string(i) + ".vbk"] = "x";
  processes_.runs_ = {dry_run(0, 0, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("would delete 3 of the 3 files")) << "our own state.json is not counted";
  EXPECT_THAT(r.advice, HasSubstr("--allow-mass-delete"));
  EXPECT_EQ(processes_.started_.size(), 1u);
  EXPECT_EQ(disk_state()->state, "complete") << "the good copy is left as it was";
}

TEST_F(JobTest, AllowsAMassDeleteOnceWhenAskedTo) {
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete"})";
  for (int i = 0; i < 3; ++i) mounter_.disks_[kDev]["old/file" + std::to_string(i) + ".vbk"] = "x";
  processes_.runs_ = {dry_run(1, 10, 3), copy_run(10, 1)};
  const JobReport r = run_job({JobRequest::By::device, kDev, true});
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_THAT(r.warnings.at(0), HasSubstr("allowed once"));
}

TEST_F(JobTest, ExemptsADisksFirstCopyFromTheDeleteLimit) {
  // Only what the filesystem keeps by itself: nothing of a backup is on this disk yet.
  mounter_.disks_[kDev]["lost+found/#12"] = "x";
  mounter_.disks_[kDev]["System Volume Information/IndexerVolumeGuid"] = "x";
  processes_.runs_ = {dry_run(1, 10, 1), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
}

TEST_F(JobTest, ProtectsADiskWithoutOurStateFromAMassDelete) {
  // Written by the older script or by plain rsync: no .usb-backup-copier/ at all.
  for (int i = 0; i < 4; ++i) mounter_.disks_[kDev]["jobs/file" + std::to_string(i) + ".vbk"] = "x";
  processes_.runs_ = {dry_run(0, 0, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("would delete 3 of the 4 files"));
  EXPECT_EQ(processes_.started_.size(), 1u) << "only the dry run";
  EXPECT_EQ(disk().size(), 4u) << "the disk is left untouched";
}

TEST_F(JobTest, AnEmptySourceHoldingOnlyLostAndFoundIsRefused) {
  fs_.files_.clear();
  fs_.dirs_.insert(std::string(kSource) + "/lost+found");
  fs_.files_[std::string(kSource) + "/.usb-backup-copier.lock"] = "";
  fs_.dirs_.insert(kMount);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("is empty"));
  EXPECT_TRUE(processes_.started_.empty());
  EXPECT_TRUE(mounter_.calls_.empty()) << "the disk is not even mounted";
}

TEST_F(JobTest, ReportsRsyncsOwnErrorAndMarksTheDiskIncomplete) {
  ScriptedRun failing = copy_run(1000, 1);
  failing.chunks.resize(2);
  failing.chunks.push_back({"", "rsync: [receiver] write failed on \"/media/usb-backup-copier/a\": Input/output error (5)\n"
                                "rsync error: error in file IO (code 11) at receiver.c(378) [receiver=3.2.7]\n",
                            std::chrono::milliseconds(100), {}});
  failing.exit_code = 11;
  processes_.runs_ = {dry_run(1, 1000), failing};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("rsync exit 11, Error in file I/O"));
  EXPECT_THAT(r.reason, HasSubstr("Input/output error"));
  EXPECT_EQ(disk_state()->state, "incomplete");
  EXPECT_THAT(disk_state()->reason, HasSubstr("rsync exit 11"));
  expect_undone(r);
  EXPECT_EQ(history_.recorded_.at(0).outcome, Outcome::failed);
  // Logged once, where it is handled: in the failure reason, not before it as well.
  std::size_t mentions = 0;
  for (auto at = r.run_log.find("Input/output error"); at != std::string::npos;
       at = r.run_log.find("Input/output error", at + 1))
    ++mentions;
  EXPECT_EQ(mentions, 1u) << r.run_log;
}

TEST_F(JobTest, TreatsVanishedSourceFilesAsAWarning) {
  ScriptedRun vanished = copy_run(1000, 1);
  vanished.exit_code = 24;
  processes_.runs_ = {dry_run(1, 1000), vanished};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("vanished"));
  EXPECT_EQ(disk_state()->state, "complete");
}

TEST_F(JobTest, StopsAStalledCopy) {
  config_.stall_timeout_minutes = 2;
  ScriptedRun stalled = copy_run(1000, 1);
  stalled.chunks.resize(1);
  stalled.hang = true;
  processes_.runs_ = {dry_run(1, 1000), stalled};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("no progress for 2 min"));
  EXPECT_EQ(processes_.terminations_, 1);
  EXPECT_EQ(disk_state()->state, "incomplete");
  expect_undone(r);
}

TEST_F(JobTest, StopsOnSigtermMidCopyAndCleansUp) {
  ScriptedRun run = copy_run(4000, 4);
  run.chunks[1].action = [this] { stop_.requested_ = true; };
  processes_.runs_ = {dry_run(4, 1000), run};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_EQ(exit_code(r), 1);
  EXPECT_THAT(r.reason, HasSubstr("SIGTERM"));
  EXPECT_THAT(r.advice, HasSubstr("incomplete copy"));
  EXPECT_EQ(processes_.terminations_, 1);
  EXPECT_EQ(disk_state()->state, "incomplete");
  expect_undone(r);
  EXPECT_EQ(history_.recorded_.at(0).outcome, Outcome::aborted);
  EXPECT_EQ(mailer_.sent_.size(), 2u);
}

TEST_F(JobTest, StopsOnSigtermDuringTheDryRunWithoutWritingTheDisk) {
  ScriptedRun run = dry_run(1, 10);
  run.chunks[0].action = [this] { stop_.requested_ = true; };
  run.hang = true;
  processes_.runs_ = {run};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_THAT(r.advice, HasSubstr("Nothing was written"));
  EXPECT_FALSE(disk().count(kDiskStateFile));
  expect_undone(r);
}

TEST_F(JobTest, StopsOnSigtermWhileQueued) {
  slots_.copy_busy_for_ = 1000;
  clock_.on_advance_ = [this](std::chrono::milliseconds t) {
    if (t >= std::chrono::seconds(5)) stop_.requested_ = true;
  };
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_TRUE(mounter_.calls_.empty());
}

TEST_F(JobTest, DetachesTheDiskLazilyWhenItWasPulledOut) {
  ScriptedRun run = copy_run(4000, 4);
  run.chunks[1].action = [this] {
    devices_.unplug(kDev);
    stop_.requested_ = true;
  };
  processes_.runs_ = {dry_run(4, 1000), run};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_EQ(mounter_.calls_.back(), "umount-lazy /media/usb-backup-copier");
  EXPECT_FALSE(r.unmounted) << "a pulled disk is never reported safe";
}

TEST_F(JobTest, CallsAnRsyncFailureAnAbortWhenTheDiskWasPulledOut) {
  ScriptedRun failing = copy_run(4000, 4);
  failing.chunks.resize(2);
  failing.chunks[1].action = [this] { devices_.unplug(kDev); };
  failing.chunks.push_back({"", "rsync: [receiver] write failed: Input/output error (5)\n", std::chrono::milliseconds(100), {}});
  failing.exit_code = 23;
  processes_.runs_ = {dry_run(4, 1000), failing};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_THAT(r.reason, HasSubstr("the disk was pulled out"));
  EXPECT_EQ(mounter_.calls_.back(), "umount-lazy /media/usb-backup-copier");
  EXPECT_EQ(history_.recorded_.at(0).outcome, Outcome::aborted);
}

TEST_F(JobTest, FailsWhenTheLockFileCannotBeDeletedAfterTheCopy) {
  run_lock_.fail_remove_ = true;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("Could not delete the lock file"));
  EXPECT_EQ(disk_state()->state, "complete") << "the copy itself is whole";
  EXPECT_FALSE(mounter_.is_mounted(kMount));
}

TEST_F(JobTest, RetriesABusyUnmountThenSyncsAndSaysSo) {
  mounter_.busy_unmounts_ = 100;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_TRUE(r.synced_only);
  EXPECT_FALSE(r.unmounted);
  EXPECT_EQ(mounter_.calls_.back(), "sync /media/usb-backup-copier");
  EXPECT_THAT(r.warnings.back(), HasSubstr("umount /media/usb-backup-copier"));
}

TEST_F(JobTest, UnmountsAfterABriefBusySpell) {
  mounter_.busy_unmounts_ = 2;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(r.unmounted);
}

TEST_F(JobTest, WarnsWhenLittleSpaceIsLeft) {
  config_.free_space_threshold_gb = 500;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("threshold 500 GiB"));
  EXPECT_EQ(r.free_bytes_after, 100ULL << 30);
}

TEST_F(JobTest, WarnsButCopiesWithoutAnInhibitor) {
  inhibitor_.error_ = "logind is not running";
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("logind is not running"));
}

TEST_F(JobTest, AMailThatCannotBeSentDoesNotChangeTheResult) {
  mailer_.fail_ = true;
  config_.send_start_mail = false;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(mailer_.sent_.size(), 1u);
}

TEST_F(JobTest, KeptMailsGoOutBeforeTheEndMailIsComposedAndWhatBecameOfThemIsInIt) {
  const std::string moved =
      "1 kept mail was refused permanently by the server and moved to '/var/lib/x/outbox/failed': 554 no";
  mailer_.kept_ = {2, {moved}};
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(mailer_.calls_.size(), 3u);
  EXPECT_EQ(mailer_.calls_[1], "deliver_kept") << "after the start mail, before the end mail";
  EXPECT_THAT(r.warnings, ::testing::Contains(moved));
  ASSERT_EQ(history_.recorded_.size(), 1u);
  EXPECT_THAT(history_.recorded_[0].warnings, ::testing::Contains(moved));
  EXPECT_THAT(mailer_.sent_.back().body, HasSubstr("554 no"));
  EXPECT_TRUE(logged("Sent 2 mails kept from earlier runs", r));
}

TEST_F(JobTest, MailsThatCanBeNeitherSentNorKeptAreLoggedWhole) {
  std::ostringstream journal;
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(journal)));
  mailer_.fail_ = true;
  mailer_.cannot_keep_ = true;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
  EXPECT_EQ(r.outcome, Outcome::warning) << "the start mail was lost: " << r.reason;
  ASSERT_EQ(mailer_.sent_.size(), 2u);
  // Line by line: every line of each mail is a log line of its own (line breaks in a log
  // message would be escaped).
  for (const Email& mail : mailer_.sent_) {
    std::istringstream body(mail.body);
    for (std::string line; std::getline(body, line);) EXPECT_THAT(journal.str(), HasSubstr("]   " + line + "\n"));
  }
}

TEST_F(JobTest, StatusFailuresDoNotStopTheCopy) {
  status_.fail_ = true;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
}

TEST_F(JobTest, ContinuesAfterAnInterruptedCopyAndSaysSo) {
  mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "in-progress"})";
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("never finished"));
  EXPECT_EQ(disk_state()->state, "complete");
}

TEST_F(JobTest, EstimatesTheDurationFromTheDisksLastRun) {
  history_.rows_.push_back({"0A1B2C3D-1111-4222-8333-444455556666", "", 1000, 1100, "success", "", 1000000, 1, 0, "", "copy", std::nullopt});
  processes_.runs_ = {dry_run(1, 2000000), copy_run(2000000, 1)};
  const JobReport r = run_job();
  ASSERT_TRUE(r.estimated_seconds);
  EXPECT_EQ(*r.estimated_seconds, 200);
}

TEST_F(JobTest, DumpsEnvironmentAndMaskedConfigInDebugMode) {
  config_.debug = true;
  config_.mail_password = "s3cret-pw";
  config_.ping_url = "https://hc-ping.com/5f0c-secret-check";
  config_.history_keep_days = 90;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_TRUE(logged("PATH=/usr/bin", r));
  EXPECT_TRUE(logged("mail password = ********", r));
  EXPECT_FALSE(logged("s3cret-pw", r));
  EXPECT_TRUE(logged("history-keep-days = 90", r));
  EXPECT_TRUE(logged("ping-url = (set)", r));
  EXPECT_FALSE(logged("5f0c-secret-check", r));
}

TEST_F(JobTest, WaitsForAVeeamJobThenCopies) {
  veeam_.leases_ = {FakeVeeamGate::lease("Nightly")};
  veeam_.clear_after_waits_ = 30;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(status_.saw_phase(Phase::waiting_for_veeam));
  EXPECT_TRUE(logged("Waiting for Veeam job 'Nightly'", r));
  EXPECT_EQ(veeam_.calls_.front(), "try_enter");
  ASSERT_EQ(mounter_.calls_.size(), 3u) << "mounted only after Veeam was done";
  EXPECT_THAT(mounter_.calls_[0], StartsWith("mount "));
}

TEST_F(JobTest, GivesUpOnVeeamAfterTheLimitWithoutTouchingTheDisk) {
  config_.wait_for_veeam_minutes = 2;
  veeam_.leases_ = {FakeVeeamGate::lease("Nightly"), FakeVeeamGate::lease("Weekly")};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::gave_up);
  EXPECT_EQ(exit_code(r), 75);
  EXPECT_THAT(r.reason, HasSubstr("2 min"));
  EXPECT_THAT(r.reason, HasSubstr("'Nightly', 'Weekly'"));
  EXPECT_TRUE(mounter_.calls_.empty());
  EXPECT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_EQ(history_.recorded_.at(0).outcome, Outcome::gave_up);
}

TEST_F(JobTest, WarnsAboutExpiredLeasesAndIgnoresThem) {
  veeam_.expired_ = {FakeVeeamGate::lease("Crashed", 1'700'000'000)};
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("expired Veeam lease of job 'Crashed'"));
}

// A copy of 4000 bytes that a Veeam job interrupts when 2000 are done, and that is let go on
// after ten waits; `also` runs at that moment too.
ScriptedRun copy_interrupted_by_veeam(FakeVeeamGate& veeam, std::function<void()> also = {}) {
  ScriptedRun first = copy_run(4000, 4);
  first.chunks.resize(2);
  first.hang = true;
  first.chunks[1].action = [&veeam, also] {
    if (also) also();
    veeam.appear(FakeVeeamGate::lease("Nightly"));
    veeam.clear_after_waits_ = veeam.waits_ + 10;
  };
  return first;
}

TEST_F(JobTest, YieldsToAVeeamJobMidCopyAndResumes) {
  const ScriptedRun first = copy_interrupted_by_veeam(veeam_);
  // The resumed run writes the interrupted file again: 2500 bytes in its last 2 files.
  ScriptedRun second;
  second.chunks = copy_chunks(2500, 2, 2);
  processes_.runs_ = {dry_run(4, 1000), first, second};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(r.veeam_pauses, 1);
  EXPECT_EQ(processes_.terminations_, 1) << "rsync was stopped for Veeam";
  ASSERT_EQ(processes_.started_.size(), 3u) << "dry run, copy, resumed copy";
  EXPECT_EQ(processes_.started_[2], processes_.started_[1]);
  EXPECT_TRUE(status_.saw_phase(Phase::paused_for_veeam));
  EXPECT_EQ(r.bytes_copied, 4500u) << "measured: 2000 before the pause, 2500 after it";
  EXPECT_EQ(r.files_copied, 4u) << "2 files before the pause, 2 after it";
  EXPECT_EQ(disk_state()->state, "complete");
  expect_undone(r);
}

TEST_F(JobTest, RemovesThePartialDirThatRsyncStoppedForVeeamLeftEmpty) {
  const std::string partial_dir = std::string(kMount) + "/Weekly/.rsync-partial";
  const std::string holding = std::string(kMount) + "/Daily/.rsync-partial";
  const ScriptedRun first = copy_interrupted_by_veeam(veeam_, [&] {
    // Stopped after creating its partial dir, before writing into it.
    fs_.dirs_.insert(partial_dir);
    fs_.files_[holding + "/other.vbk"] = "part";  // a partial copy it cannot continue
  });
  ScriptedRun second;
  second.chunks = copy_chunks(2500, 2, 2);
  processes_.runs_ = {dry_run(4, 1000), first, second};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(fs_.removed_dirs_, std::vector<std::string>{partial_dir});
  EXPECT_TRUE(disk().count("Daily/.rsync-partial/other.vbk")) << "a partial dir with a file in it stays";
  EXPECT_TRUE(logged("Removed 1 empty '.rsync-partial' directory", r));
}

TEST_F(JobTest, GivesUpWhenVeeamKeepsTheRepositoryTooLongMidCopy) {
  config_.wait_for_veeam_minutes = 1;
  ScriptedRun first = copy_run(4000, 4);
  first.chunks.resize(2);
  first.hang = true;
  first.chunks[1].action = [this] { veeam_.appear(FakeVeeamGate::lease("Nightly")); };
  processes_.runs_ = {dry_run(4, 1000), first};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::gave_up);
  EXPECT_EQ(exit_code(r), 75);
  EXPECT_EQ(disk_state()->state, "incomplete");
  EXPECT_THAT(r.advice, HasSubstr("continues where it stopped"));
  expect_undone(r);
}

TEST_F(JobTest, DoesNotYieldWhenConfiguredNotTo) {
  config_.copy_yields_to_veeam = false;
  veeam_.appear_on_check_ = 1;
  processes_.runs_ = {dry_run(4, 1000), copy_run(4000, 4)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(r.veeam_pauses, 0);
  EXPECT_EQ(veeam_.checks_, 0);
}


TEST_F(JobTest, ADeviceThatDoesNotExistStillLeavesAHistoryRowAndAMail) {
  const JobReport r = run_job({JobRequest::By::device, "/dev/sdz9", false});
  EXPECT_EQ(r.outcome, Outcome::failed);
  ASSERT_EQ(history_.recorded_.size(), 1u);
  EXPECT_EQ(history_.recorded_[0].disk.devnode, "/dev/sdz9");
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_THAT(mailer_.sent_[0].subject, HasSubstr("FAILED: Device '/dev/sdz9' does not exist"));
  EXPECT_THAT(mailer_.sent_[0].to, ::testing::Contains("sysop@example.com"));
}

TEST_F(JobTest, UndoFailuresAreWarningsAndEveryOtherUndoStillRuns) {
  config_.send_start_mail = false;  // the gate is left only at the end then
  veeam_.fail_leave_ = true;
  inhibitor_.fail_release_ = true;
  processes_.runs_ = {dry_run(1, 10), copy_run(10, 1)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_THAT(r.warnings, ::testing::Contains(HasSubstr("Could not release the shutdown inhibitor: sd_bus_call")));
  EXPECT_THAT(r.warnings, ::testing::Contains(HasSubstr("Could not leave the Veeam gate: unlink")));
  EXPECT_EQ(disk_state()->state, "complete");
  EXPECT_FALSE(mounter_.is_mounted(kMount));
  EXPECT_FALSE(slots_.copy_claimed_) << "the slot is freed after the failing undos";
  EXPECT_EQ(history_.recorded_.size(), 1u);
  EXPECT_EQ(mailer_.sent_.size(), 1u) << "the end mail";
}

}  // namespace
}  // namespace ubc::test
