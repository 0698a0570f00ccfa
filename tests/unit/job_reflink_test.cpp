// SPDX-License-Identifier: MIT
// Restore points on xfs and btrfs: which changed big files the job clones from the newest
// restore point and updates in place, and how every failure on the way falls back to the
// copy pass that writes them whole.
#include <gmock/gmock.h>

#include <algorithm>

#include "core/manifest.h"
#include "core/restore_points.h"
#include "core/rsync.h"
#include "core/text.h"
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kInProgress = std::string(kMount) + "/.usb-backup-copier/in-progress";
const std::string kOld = "2023-11-14T221320Z";
const std::string kNew = "2027-01-15T080000Z";  // the fake clock's start
const std::string kRun = "/run/usb-backup-copier";
constexpr std::uint64_t kBig = 96ULL << 20;

TEST(InPlaceArgvTest, UpdatesTheListedFilesInPlaceByDeltaWithoutPartialDir) {
  Config config;
  config.backup_source = "/srv/veeam";
  config.rsync_log_file_path = "/var/log/rsync.log";
  const auto argv = build_in_place_argv(config, "/mnt/.usb-backup-copier/in-progress", "/run/x.list");
  EXPECT_EQ(argv.front(), "rsync");
  for (const char* option : {"--archive", "--numeric-ids", "--inplace", "--no-whole-file", "--ignore-times",
                             "--files-from=/run/x.list",
                             "--from0", "--log-file=/var/log/rsync.log", "--stats", "--info=progress2"})
    EXPECT_THAT(argv, Contains(option));
  EXPECT_THAT(argv, Not(Contains(HasSubstr("--partial-dir")))) << "rsync refuses it with --inplace";
  EXPECT_THAT(argv, Not(Contains(HasSubstr("--delete"))));
  EXPECT_EQ(argv[argv.size() - 2], "/srv/veeam/");
  EXPECT_EQ(argv.back(), "/mnt/.usb-backup-copier/in-progress/");
}

TEST(InPlaceDryRunTest, NamesUpdatedFilesOfAtLeastTheThresholdButNoNewOnes) {
  RsyncOutputReader reader;
  reader.feed(">f.st...... " + std::to_string(kInPlaceMinBytes) + " jobs/a\\#012b.vbk\n");
  reader.feed(">f..t...... " + std::to_string(kBig) + " jobs/touched.vbk\n");
  reader.feed(">f.st...... " + std::to_string(kInPlaceMinBytes - 1) + " jobs/small.vib\n");
  reader.feed(">f+++++++++ " + std::to_string(kBig) + " jobs/new.vbk\n");
  reader.feed("cd+++++++++ 0 jobs/\n");
  EXPECT_THAT(reader.big_updated_files(), ElementsAre("jobs/a\nb.vbk", "jobs/touched.vbk"));
}

class ReflinkJobTest : public JobTest {
 protected:
  ReflinkJobTest() {
    config_.restore_points = 3;
    devices_.devices_.front().fstype = "xfs";
    fs_.reflink_roots_ = {kMount};
    fs_.dirs_.insert(kRun);
    // Same size as the old version: only the in-place mark gets it read back.
    point_on_disk(kOld, {{"jobs/chain.vbm", "old"}, {"jobs/backup.vbk", "data"}});
    fs_.files_[std::string(kSource) + "/jobs/chain.vbm"] = "new";
    processes_.runs_ = {dry_run(0, 0, 0, kBig), in_place_run(), copy_run(0, 0)};
  }
  // Named by the UUID as udev spells it.
  const std::string list_ = kRun + "/in-place-" + uuid_name_chars(devices_.devices_.front().uuid) + ".list";
  // The in-place rsync: it reads its list and writes the new version into the clone.
  ScriptedRun in_place_run() {
    ScriptedRun run = copy_run(kBig, 1);
    run.chunks.front().action = [this] {
      if (fs_.files_.count(list_)) list_seen_ = fs_.files_.at(list_);
      fs_.files_[kInProgress + "/jobs/chain.vbm"] = "new";
    };
    return run;
  }
  bool ran_in_place() const {
    return std::any_of(processes_.started_.begin(), processes_.started_.end(),
                       [](const auto& argv) { return std::find(argv.begin(), argv.end(), "--inplace") != argv.end(); });
  }
  // A run whose changed big file goes to the copy pass, written whole.
  JobReport run_copying_whole() {
    processes_.runs_ = {dry_run(0, 0, 0, kBig), copy_run(kBig, 1)};
    const JobReport r = run_job();
    EXPECT_NE(r.outcome, Outcome::failed) << r.reason;
    EXPECT_FALSE(ran_in_place());
    EXPECT_EQ(r.bytes_copied, kBig);
    return r;
  }
  std::string list_seen_;
};

TEST_F(ReflinkJobTest, AChangedBigFileIsClonedFromTheNewestPointThenUpdatedInPlaceAndReadBack) {
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason << r.run_log;
  EXPECT_EQ(fs_.clones_, std::vector<std::string>{std::string(kMount) + "/" + kOld + "/jobs/chain.vbm -> " +
                                                  kInProgress + "/jobs/chain.vbm"});
  ASSERT_EQ(processes_.started_.size(), 3u);
  const auto& in_place = processes_.started_[1];
  EXPECT_THAT(in_place, Contains("--inplace"));
  EXPECT_THAT(in_place, Contains("--files-from=" + list_));
  EXPECT_EQ(in_place.back(), kInProgress + "/");
  EXPECT_EQ(list_seen_, std::string("jobs/chain.vbm") + '\0');
  EXPECT_FALSE(fs_.files_.count(list_)) << "the list is removed after the pass";
  EXPECT_THAT(processes_.started_[2], Contains("--link-dest=" + std::string(kMount) + "/" + kOld)) << "then the rest";
  EXPECT_EQ(disk().at(kNew + "/jobs/chain.vbm"), "new");
  EXPECT_EQ(disk().at(kOld + "/jobs/chain.vbm"), "old") << "the older point keeps its version";
  EXPECT_THAT(hasher_.copies_read_, Contains(kInProgress + "/jobs/chain.vbm"))
      << "its size and time match the old sum's, yet it was written into";
  EXPECT_EQ(r.bytes_copied, kBig) << "the two passes add up to the dry run's bytes";
  EXPECT_TRUE(logged("Updating 1 changed big file in place", r));
}

TEST_F(ReflinkJobTest, NewFilesAndFilesBelowTheThresholdAreCopiedAsBefore) {
  processes_.runs_ = {dry_run(1, kBig, 0, kInPlaceMinBytes - 1), copy_run(4, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(fs_.clones_.empty());
  EXPECT_FALSE(ran_in_place());
}

TEST_F(ReflinkJobTest, AFileTheNewestPointDoesNotHoldIsNotCloned) {
  mounter_.disks_[kDev].erase(kOld + "/jobs/chain.vbm");
  run_copying_whole();
  EXPECT_TRUE(fs_.clones_.empty());
}

TEST_F(ReflinkJobTest, AnExt4DiskIsNeverAskedToClone) {
  devices_.devices_.front().fstype = "ext4";
  run_copying_whole();
  EXPECT_TRUE(fs_.clones_.empty());
}

TEST_F(ReflinkJobTest, AMirrorNeverClones) {
  config_.restore_points = 1;
  mounter_.disks_[kDev].clear();
  run_copying_whole();
  EXPECT_TRUE(fs_.clones_.empty());
}

TEST_F(ReflinkJobTest, AFilesystemThatCannotShareBlocksLeavesTheFileToTheCopy) {
  fs_.reflink_roots_.clear();  // xfs made with reflink=0
  EXPECT_TRUE(logged("cannot share blocks between restore points", run_copying_whole()));
}

TEST_F(ReflinkJobTest, ACloneThatFailsLeavesTheFileToTheCopy) {
  fs_.broken_prefixes_ = {kInProgress + "/jobs/chain.vbm"};
  EXPECT_TRUE(logged("Could not clone 'jobs/chain.vbm' from the newest restore point", run_copying_whole()));
}

TEST_F(ReflinkJobTest, ASymlinkInTheUnfinishedCopyIsNeverClonedThrough) {
  fs_.special_[kInProgress + "/jobs"] = SpecialKind::symlink;
  EXPECT_TRUE(logged("'jobs/chain.vbm' lies below a symlink in the unfinished copy", run_copying_whole()));
  EXPECT_TRUE(fs_.clones_.empty());
}

TEST_F(ReflinkJobTest, AFailedInPlacePassLeavesTheFilesToTheCopy) {
  ScriptedRun failing = in_place_run();
  failing.exit_code = 23;
  failing.chunks.back().err = "rsync: [receiver] write failed on \"jobs/chain.vbm\": Input/output error (5)\n";
  processes_.runs_ = {dry_run(0, 0, 0, kBig), failing, copy_run(kBig, 1)};
  const JobReport r = run_job();
  ASSERT_EQ(r.outcome, Outcome::success) << r.reason;
  ASSERT_EQ(processes_.started_.size(), 3u) << "the copy pass still runs";
  EXPECT_TRUE(logged("The in-place update failed (Partial transfer due to error (23)", r));
  EXPECT_EQ(r.bytes_copied, kBig) << "counted once, by the pass that copied it";
}

TEST_F(ReflinkJobTest, AStopDuringTheInPlacePassKeepsEveryPointAndTheUnfinishedCopy) {
  ScriptedRun stopped = in_place_run();
  stopped.chunks[1].action = [this] { stop_.requested_ = true; };
  processes_.runs_ = {dry_run(0, 0, 0, kBig), stopped};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::aborted) << r.reason;
  EXPECT_EQ(processes_.started_.size(), 2u) << "no copy pass after a stop";
  EXPECT_EQ(disk().at(kOld + "/jobs/chain.vbm"), "old");
  EXPECT_TRUE(disk().count(".usb-backup-copier/in-progress/jobs/chain.vbm")) << "continued next time";
  EXPECT_FALSE(disk().count(kNew + "/" + kPointRecordFile));
  EXPECT_TRUE(fs_.symlinks_.empty()) << "latest is not touched";
}

}  // namespace
}  // namespace ubc::test
