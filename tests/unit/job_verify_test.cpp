// SPDX-License-Identifier: MIT
// The end of a copy that a restorer can trust: sync, read back, manifest, then "complete";
// and `verify`, which checks a disk against its manifest.
#include <algorithm>

#include "core/manifest.h"
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDiskFile = std::string(kMount) + "/jobs/backup.vbk";
const std::string kSourceFile = std::string(kSource) + "/jobs/backup.vbk";

class JobVerifyTest : public JobTest {
 protected:
  JobVerifyTest() {
    fs_.journal_ = &journal_;
    processes_.runs_ = {dry_run(1, 4), copy_run(4, 1)};
    // What rsync leaves on the disk: the fake rsync writes nothing, so the disk starts with it.
    mounter_.disks_[kDev]["jobs/backup.vbk"] = "data";
  }

  // Position of the first journal entry starting with prefix; npos when there is none.
  std::size_t at(const std::string& prefix, std::size_t from = 0) const {
    for (std::size_t i = from; i < journal_.size(); ++i)
      if (journal_[i].rfind(prefix, 0) == 0) return i;
    return std::string::npos;
  }
  std::size_t last(const std::string& prefix) const {
    for (std::size_t i = journal_.size(); i-- > 0;)
      if (journal_[i].rfind(prefix, 0) == 0) return i;
    return std::string::npos;
  }
  Manifest manifest_on_disk() {
    const auto it = disk().find(kManifestFile);
    if (it == disk().end()) return {};
    Manifest m = parse_sha256sums(it->second).entries;
    if (const auto stamps = disk().find(kManifestStampFile); stamps != disk().end()) apply_stamps(stamps->second, m);
    return m;
  }
  // The disk as a complete earlier run left it: the file, its manifest entry and stamp.
  void previous_run_left(const std::map<std::string, std::string>& files) {
    Manifest m;
    for (const auto& [path, content] : files) {
      mounter_.disks_[kDev][path] = content;
      m[path] = ManifestEntry{FakeFileHasher::digest(content), FileStamp{content.size(), 0}};
    }
    mounter_.disks_[kDev][kManifestFile] = render_sha256sums(m);
    mounter_.disks_[kDev][kManifestStampFile] = render_stamps(m);
    mounter_.disks_[kDev][kDiskStateFile] = R"({"state": "complete", "finished_at": 1700000000})";
  }

  std::vector<std::string> journal_;
};

TEST_F(JobVerifyTest, SyncsThenReadsBackThenWritesTheManifestThenSaysCompleteThenUnmounts) {
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  const std::string state = std::string(kMount) + "/" + kDiskStateFile;
  const std::size_t sync = at("sync ");
  const std::size_t read_back = at("read back " + kDiskFile);
  const std::size_t manifest = at("write " + std::string(kMount) + "/" + kManifestFile);
  const std::size_t complete = last("write " + state);
  const std::size_t unmount = at("umount ");
  ASSERT_NE(sync, std::string::npos);
  EXPECT_LT(sync, read_back);
  EXPECT_LT(read_back, manifest);
  EXPECT_LT(manifest, complete);
  EXPECT_LT(complete, unmount);
  EXPECT_EQ(at("write " + state, sync), complete) << "nothing says complete before the sync and the read-back";
  EXPECT_EQ(disk_state()->state, "complete");
  ASSERT_TRUE(r.verification);
  EXPECT_EQ(r.verification->files_checked, 1u);
  EXPECT_EQ(r.verification->bytes_read, 4u);
  EXPECT_EQ(r.verification->mismatches, 0u);
  EXPECT_EQ(manifest_on_disk().at("jobs/backup.vbk").sha256, FakeFileHasher::digest("data"));
  EXPECT_EQ(hasher_.sources_read_, std::vector<std::string>{kSourceFile});
  expect_undone(r);
}

TEST_F(JobVerifyTest, AFailedSyncLeavesTheDiskIncompleteWithTheReason) {
  mounter_.fail_sync_ = "syncfs '/media/usb-backup-copier'";
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("Could not sync the disk's filesystem"));
  EXPECT_EQ(disk_state()->state, "incomplete");
  EXPECT_THAT(disk_state()->reason, HasSubstr("sync"));
  EXPECT_TRUE(hasher_.copies_read_.empty()) << "nothing is verified on an unsynced disk";
  EXPECT_FALSE(disk().count(kManifestFile));
  expect_undone(r);
}

TEST_F(JobVerifyTest, AMismatchFailsTheRunNamesTheFileAndLeavesTheDiskIncomplete) {
  hasher_.corrupt_.insert(kDiskFile);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("'jobs/backup.vbk' differs from the source"));
  EXPECT_EQ(disk_state()->state, "incomplete");
  EXPECT_THAT(disk_state()->reason, HasSubstr("Verification failed"));
  EXPECT_EQ(r.verification->mismatches, 1u);
  EXPECT_FALSE(manifest_on_disk().count("jobs/backup.vbk")) << "no sum is recorded for a damaged copy";
  EXPECT_EQ(mailer_.sent_.back().subject.find("FAILED") != std::string::npos, true);
  expect_undone(r);
}

TEST_F(JobVerifyTest, AReadErrorDuringVerificationFailsTheRun) {
  hasher_.unreadable_.insert(kDiskFile);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("'jobs/backup.vbk' cannot be read back (read: Input/output error)"));
  EXPECT_EQ(disk_state()->state, "incomplete");
}

TEST_F(JobVerifyTest, ManyMismatchesNameTheFirstTwentyThenCountTheRest) {
  for (int i = 0; i < 25; ++i) {
    const std::string rel = "jobs/f" + std::to_string(100 + i);
    fs_.files_[std::string(kSource) + "/" + rel] = "x";
    mounter_.disks_[kDev][rel] = "x";
    hasher_.corrupt_.insert(std::string(kMount) + "/" + rel);
  }
  const JobReport r = run_job();
  EXPECT_EQ(r.verification->mismatches, 25u);
  EXPECT_EQ(r.verification->problems.size(), 20u);
  EXPECT_THAT(r.reason, HasSubstr("'jobs/f100' differs"));
  EXPECT_THAT(r.reason, Not(HasSubstr("'jobs/f124'")));
  EXPECT_THAT(r.reason, HasSubstr("(and 5 more)"));
}

TEST_F(JobVerifyTest, UnchangedFilesKeepTheirSumsAndChangedOnesAreReadBack) {
  previous_run_left({{"jobs/old.vbk", "old"}, {"jobs/backup.vbk", "stale"}});
  fs_.files_[std::string(kSource) + "/jobs/old.vbk"] = "old";
  // This run wrote backup.vbk anew: another size than its manifest stamp says.
  mounter_.disks_[kDev]["jobs/backup.vbk"] = "data";
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(hasher_.copies_read_, std::vector<std::string>{kDiskFile}) << "old.vbk is not read again";
  EXPECT_EQ(r.verification->files_kept, 1u);
  const Manifest m = manifest_on_disk();
  EXPECT_EQ(m.at("jobs/old.vbk").sha256, FakeFileHasher::digest("old")) << "kept";
  EXPECT_EQ(m.at("jobs/backup.vbk").sha256, FakeFileHasher::digest("data")) << "replaced";
  EXPECT_EQ(m.at("jobs/backup.vbk").stamp, (FileStamp{4, 0}));
}

TEST_F(JobVerifyTest, AnUnchangedRerunHashesNoSourceFile) {
  previous_run_left({{"jobs/backup.vbk", "data"}});
  processes_.runs_ = {dry_run(0, 0)};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(hasher_.sources_read_.empty());
  EXPECT_EQ(r.verification->files_checked, 0u);
  EXPECT_EQ(r.verification->files_kept, 1u);
}

TEST_F(JobVerifyTest, VerifyAllReadsEveryFileAndCatchesDamageThatNoCopyWrote) {
  config_.verify = VerifyMode::all;
  previous_run_left({{"jobs/backup.vbk", "data"}});
  processes_.runs_ = {dry_run(0, 0)};
  hasher_.corrupt_.insert(kDiskFile);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_FALSE(r.copy_started);
  EXPECT_EQ(disk_state()->state, "incomplete") << "the disk no longer says complete about a damaged copy";
  EXPECT_EQ(disk_state()->last_complete_at, 1700000000);
}

TEST_F(JobVerifyTest, TheNextCopyReplacesWhatAVerificationFoundDamaged) {
  config_.verify = VerifyMode::all;
  config_.state_directory = "/var/lib/usb-backup-copier";
  previous_run_left({{"jobs/backup.vbk", "data"}});
  processes_.runs_ = {dry_run(0, 0)};
  hasher_.corrupt_.insert(kDiskFile);
  ASSERT_EQ(run_job().outcome, Outcome::failed);

  // The damaged copy has the source's size and time: rsync alone would never replace it.
  hasher_.corrupt_.clear();
  processes_.runs_ = {dry_run(1, 4), copy_run(4, 1)};
  const JobReport r = run_job();
  EXPECT_TRUE(logged("Removed 1 file that the last check found damaged", r)) << r.run_log;
  EXPECT_FALSE(disk().count("jobs/backup.vbk")) << "removed, for the (fake) rsync to copy again";
}

TEST_F(JobVerifyTest, VerifyNoneReadsNothingAndRemovesAManifestItCouldNotKeepTrue) {
  config_.verify = VerifyMode::none;
  previous_run_left({{"jobs/backup.vbk", "stale"}});
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(hasher_.copies_read_.empty());
  EXPECT_FALSE(disk().count(kManifestFile));
  EXPECT_FALSE(disk().count(kManifestStampFile));
  EXPECT_FALSE(r.verification);
}

TEST_F(JobVerifyTest, AFifoAsStateFileIsReportedAndTreatedAsNoState) {
  mounter_.disks_[kDev][kDiskStateFile] = "";
  fs_.not_regular_.insert(std::string(kMount) + "/" + kDiskStateFile);
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_THAT(r.warnings.at(0), HasSubstr("treated as no state"));
}

TEST_F(JobVerifyTest, AStopDuringVerificationAbortsAndLeavesTheDiskIncomplete) {
  hasher_.before_read_ = [this](const std::string&) { stop_.requested_ = true; };
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_EQ(disk_state()->state, "incomplete");
  expect_undone(r);
}

TEST_F(JobVerifyTest, AVeeamJobDuringVerificationPausesThenCopiesAgainAndChecksOn) {
  fs_.files_[std::string(kSource) + "/jobs/second.vbk"] = "more";
  mounter_.disks_[kDev]["jobs/second.vbk"] = "more";
  veeam_.clear_after_waits_ = 1;
  bool appeared = false;
  hasher_.before_read_ = [&](const std::string& path) {
    if (!appeared && path == std::string(kMount) + "/jobs/second.vbk") {
      appeared = true;
      veeam_.appear(FakeVeeamGate::lease("Nightly"));
    }
  };
  processes_.runs_ = {dry_run(2, 8), copy_run(8, 2), dry_run(0, 0)};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(r.veeam_pauses, 1);
  EXPECT_TRUE(status_.saw_phase(Phase::paused_for_veeam));
  EXPECT_EQ(processes_.started_.size(), 3u) << "dry run, copy, and the dry run after the pause";
  EXPECT_EQ(std::count(hasher_.copies_read_.begin(), hasher_.copies_read_.end(), kDiskFile), 1)
      << "backup.vbk was checked before the pause and is not read again";
  EXPECT_EQ(manifest_on_disk().size(), 2u);
}

TEST_F(JobVerifyTest, NoMailIsSentWhileTheCopierHoldsTheVeeamGate) {
  std::vector<bool> held;
  mailer_.on_send_ = [&](const Email&) { held.push_back(veeam_.entered_); };
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(held, (std::vector<bool>{false, false})) << "start mail and end mail, both outside the gate";
  EXPECT_EQ(processes_.started_.size(), 2u) << "no Veeam job came in meanwhile: no second dry run";
}

TEST_F(JobVerifyTest, AVeeamJobArrivingDuringTheStartMailIsWaitedForThenTheWorkEstimatedAgain) {
  veeam_.clear_after_waits_ = 1;
  mailer_.on_send_ = [&](const Email& mail) {
    if (mail.subject.find("copy started") != std::string::npos) veeam_.appear(FakeVeeamGate::lease("Nightly"));
  };
  processes_.runs_ = {dry_run(1, 4), dry_run(1, 4), copy_run(4, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(processes_.started_.size(), 3u) << "dry run, dry run again after Veeam, copy";
  EXPECT_EQ(mailer_.sent_.size(), 2u) << "one start mail only";
  EXPECT_TRUE(logged("Waiting for Veeam job 'Nightly'", r));
}

TEST_F(JobVerifyTest, AStopDuringTheStartMailEndsTheJobBeforeCopying) {
  mailer_.on_send_ = [&](const Email& mail) {
    if (mail.subject.find("copy started") != std::string::npos) stop_.requested_ = true;
  };
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted);
  EXPECT_EQ(processes_.started_.size(), 1u) << "only the dry run";
  EXPECT_EQ(mailer_.sent_.size(), 2u) << "the end mail still goes out";
  expect_undone(r);
}

class JobCheckDiskTest : public JobVerifyTest {
 protected:
  JobReport check() { return run_job({JobRequest::By::device, kDev, false, JobAction::verify}); }
};

TEST_F(JobCheckDiskTest, AGoodDiskPassesReadOnlyWithoutTouchingSourceOrVeeam) {
  previous_run_left({{"jobs/backup.vbk", "data"}, {"jobs/b.vbk", "bb"}});
  const JobReport r = check();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_THAT(mounter_.calls_.at(0), HasSubstr(",ro"));
  EXPECT_TRUE(processes_.started_.empty()) << "no rsync";
  EXPECT_TRUE(hasher_.sources_read_.empty()) << "only the disk is read";
  EXPECT_EQ(veeam_.try_enters_, 0);
  EXPECT_EQ(r.verification->files_checked, 2u);
  EXPECT_TRUE(fs_.writes_.empty() || std::none_of(fs_.writes_.begin(), fs_.writes_.end(), [](const std::string& w) {
    return w.rfind(kMount, 0) == 0;
  })) << "nothing is written to the disk";
  EXPECT_EQ(history_.recorded_.size(), 1u);
  EXPECT_EQ(history_.recorded_[0].action, JobAction::verify);
  EXPECT_THAT(mailer_.sent_.back().subject, HasSubstr("verify OK"));
  expect_undone(r);
}

TEST_F(JobCheckDiskTest, ADamagedOrMissingFileFailsAndIsNamed) {
  previous_run_left({{"jobs/backup.vbk", "data"}, {"jobs/gone.vbk", "gg"}});
  mounter_.disks_[kDev].erase("jobs/gone.vbk");
  hasher_.corrupt_.insert(kDiskFile);
  const JobReport r = check();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(exit_code(r), 1);
  EXPECT_THAT(r.reason, HasSubstr("'jobs/backup.vbk' differs from the manifest"));
  EXPECT_THAT(r.reason, HasSubstr("'jobs/gone.vbk' is missing"));
  EXPECT_EQ(r.verification->mismatches, 1u);
  EXPECT_EQ(r.verification->missing, 1u);
}

TEST_F(JobCheckDiskTest, UnlistedFilesAreAWarning) {
  previous_run_left({{"jobs/backup.vbk", "data"}});
  mounter_.disks_[kDev]["jobs/stranger.vbk"] = "s";
  const JobReport r = check();
  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_EQ(r.verification->unlisted, 1u);
  EXPECT_THAT(r.warnings.at(0), HasSubstr("'jobs/stranger.vbk'"));
}

TEST_F(JobCheckDiskTest, ADiskWithoutAManifestCannotBeChecked) {
  const JobReport r = check();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("holds no checksum manifest"));
  EXPECT_THAT(r.advice, HasSubstr("verify = written"));
}

}  // namespace
}  // namespace ubc::test
