// SPDX-License-Identifier: MIT
#include "core/veeam_lock.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/exit_codes.h"
#include "core/lease.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_recorders.h"
#include "ports/lease_store.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;

// The lease directory's veeam-lock side, scripted: the copier is active until the clock
// reaches copier_leaves_at_ (never, by default).
class FakeLeaseStore final : public LeaseStore {
 public:
  explicit FakeLeaseStore(test::FakeClock& clock) : clock_(clock) {}

  LeaseCreated create_lease(const std::string& job) override {
    calls_.push_back("create " + job);
    if (fail_create_) throw std::runtime_error("open '/var/lib/usb-backup-copier/veeam': Permission denied");
    LeaseCreated created;
    created.expired = expired_;
    created.others = leases_;
    created.lease = make_lease(job, "repo1", 77, clock_.now_unix(), 24);
    created.lease.file = "ours.lease";
    leases_.push_back(created.lease);
    created.copier = copier_state();
    return created;
  }
  CopierState copier_state() override {
    ++probes_;
    if (probe_error_) throw std::runtime_error("flock 'copier.active': Input/output error");
    CopierState state;
    state.active = copier_active_ && clock_.monotonic() < copier_leaves_at_;
    state.pid = 555;
    state.disk = "1234-ABCD";
    return state;
  }
  bool remove_lease(const Lease& lease) override {
    calls_.push_back("remove " + lease.file);
    return std::erase_if(leases_, [&](const Lease& l) { return l.file == lease.file; }) > 0;
  }
  LeaseRemoval remove_oldest_lease(const std::string& job) override {
    calls_.push_back("remove-oldest " + job);
    if (fail_remove_) throw std::runtime_error("unlink 'x.lease': Read-only file system");
    LeaseRemoval removal;
    removal.expired = expired_;
    removal.removed = lease_to_remove(leases_, job);
    if (removal.removed)
      std::erase_if(leases_, [&](const Lease& l) { return l.file == removal.removed->file; });
    removal.live = leases_;
    return removal;
  }
  LeaseListing list_leases() override {
    LeaseListing listing;
    listing.live = leases_;
    listing.expired = expired_;
    listing.copier = copier_state();
    return listing;
  }

  test::FakeClock& clock_;
  std::vector<Lease> leases_;
  std::vector<Lease> expired_;
  bool copier_active_ = false;
  std::chrono::milliseconds copier_leaves_at_ = std::chrono::hours(1000);
  bool fail_create_ = false;
  bool fail_remove_ = false;
  bool probe_error_ = false;
  int probes_ = 0;
  std::vector<std::string> calls_;
};

Lease lease_of(const std::string& job, std::int64_t created, const std::string& file) {
  Lease l = make_lease(job, "backup-server", 9, created, 24);
  l.file = file;
  return l;
}

class VeeamLockTest : public ::testing::Test {
 protected:
  VeeamLockTest() {
    config_.path = "/etc/usb-backup-copier/config.ini";
    config_.veeam_lockfiles = "/var/lib/usb-backup-copier/veeam";
    config_.sysop_mails = {"ops@example.com"};
    config_.from_mail = "copier@example.com";
  }
  VeeamCommandEnv env() { return VeeamCommandEnv{config_, "repo1", store_, clock_, mailer_, out_, err_}; }
  int lock(const std::string& job = "Daily") { return run_veeam_lock(env(), job); }
  int unlock(const std::string& job = "Daily") { return run_veeam_unlock(env(), job); }

  Config config_;
  test::FakeClock clock_;
  FakeLeaseStore store_{clock_};
  test::FakeMailer mailer_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(VeeamLockTest, TakesTheLeaseAtOnceWhenNoCopyRuns) {
  EXPECT_EQ(lock(), kExitOk);
  EXPECT_EQ(store_.leases_.size(), 1u);
  EXPECT_EQ(out_.str(),
            "veeam-lock: lease taken for job 'Daily' (expires 2027-01-16T08:00:00Z); no copy is reading "
            "the repository\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_TRUE(mailer_.sent_.empty());
  EXPECT_EQ(clock_.monotonic(), 0ms);
}

TEST_F(VeeamLockTest, NamesTheOtherJobsHoldingLeases) {
  store_.leases_ = {lease_of("Weekly", clock_.now_unix() - 60, "w.lease")};
  EXPECT_EQ(lock(), kExitOk);
  EXPECT_NE(out_.str().find("; other leases: 'Weekly'\n"), std::string::npos) << out_.str();
}

TEST_F(VeeamLockTest, WarnsAboutExpiredLeasesItRemoved) {
  store_.expired_ = {lease_of("Nightly", clock_.now_unix() - 30 * 3600, "n.lease")};
  EXPECT_EQ(lock(), kExitOk);
  EXPECT_NE(
      err_.str().find("veeam-lock: warning: removed an expired lease, job 'Nightly' from backup-server"),
      std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("its post-job script never ran"), std::string::npos);
}

TEST_F(VeeamLockTest, FailsAndMailsWhenTheLeaseCannotBeCreated) {
  store_.fail_create_ = true;
  EXPECT_EQ(lock(), kExitFailed);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("veeam-lock: ERROR: could not create the lease of Veeam job 'Daily' in "
                            "'/var/lib/usb-backup-copier/veeam': open '/var/lib/usb-backup-copier/veeam': "
                            "Permission denied"),
            std::string::npos)
      << err_.str();
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_EQ(mailer_.sent_[0].to, std::vector<std::string>{"ops@example.com"});
  EXPECT_NE(mailer_.sent_[0].subject.find("repo1: veeam-lock: no lease for Veeam job 'Daily'"),
            std::string::npos)
      << mailer_.sent_[0].subject;
  EXPECT_NE(mailer_.sent_[0].body.find("Permission denied"), std::string::npos);
}

TEST_F(VeeamLockTest, SaysSoWhenTheMailCannotBeSentEither) {
  store_.fail_create_ = true;
  mailer_.fail_ = true;
  EXPECT_EQ(lock(), kExitFailed);
  EXPECT_NE(
      err_.str().find("warning: the mail to the admins could not be sent (connection refused); it is kept"),
      std::string::npos)
      << err_.str();
}

TEST_F(VeeamLockTest, SaysSoWhenNoSysopIsConfigured) {
  config_.sysop_mails.clear();
  store_.fail_create_ = true;
  EXPECT_EQ(lock(), kExitFailed);
  EXPECT_TRUE(mailer_.sent_.empty());
  EXPECT_NE(err_.str().find("no mail sent: no sysop address is configured"), std::string::npos) << err_.str();
}

TEST_F(VeeamLockTest, WaitsForAYieldingCopierToPause) {
  store_.copier_active_ = true;
  store_.copier_leaves_at_ = 2s;
  EXPECT_EQ(lock(), kExitOk);
  // Polled every 100 ms: returns within one poll of the copier leaving.
  EXPECT_GE(clock_.monotonic(), 2s);
  EXPECT_LE(clock_.monotonic(), 2100ms);
  EXPECT_EQ(
      out_.str(),
      "veeam-lock: the copy to disk 1234-ABCD (pid 555) is reading the repository; asking it to pause\n"
      "veeam-lock: copy paused after 2 s; lease taken for job 'Daily' (expires 2027-01-16T08:00:00Z)\n");
  EXPECT_EQ(store_.leases_.size(), 1u);
  EXPECT_TRUE(mailer_.sent_.empty());
}

TEST_F(VeeamLockTest, KeepsTheLeaseAndGivesUpWhenTheCopierDoesNotPause) {
  store_.copier_active_ = true;
  EXPECT_EQ(lock(), kExitTempFail);
  EXPECT_EQ(clock_.monotonic(), kCopierPauseTimeout);
  // The lease stays so that the copier still pauses, and no copier starts, while the
  // Veeam job (which may run anyway) writes.
  EXPECT_EQ(store_.leases_.size(), 1u);
  EXPECT_EQ(store_.calls_, std::vector<std::string>{"create Daily"});
  EXPECT_NE(
      err_.str().find("veeam-lock: ERROR: the copy to disk 1234-ABCD (pid 555) did not pause within 2 min; "
                      "the lease of job 'Daily' stays"),
      std::string::npos)
      << err_.str();
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_NE(mailer_.sent_[0].subject.find("the copy did not pause for Veeam job 'Daily'"), std::string::npos);
  EXPECT_NE(mailer_.sent_[0].body.find("treat that disk's copy as suspect"), std::string::npos);
}

TEST_F(VeeamLockTest, CountsAFailingProbeAsAStillRunningCopy) {
  store_.copier_active_ = true;
  store_.copier_leaves_at_ = 1s;  // would be seen leaving, if the probe worked
  // create_lease's own probe sees the copier; every probe after the first wait fails.
  clock_.on_advance_ = [this](std::chrono::milliseconds) { store_.probe_error_ = true; };
  EXPECT_EQ(lock(), kExitTempFail);
  EXPECT_GT(store_.probes_, 1000);
  EXPECT_NE(err_.str().find("did not pause within 2 min (flock 'copier.active': Input/output error)"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(store_.leases_.size(), 1u);
}

TEST_F(VeeamLockTest, WaitsForANonYieldingCopyToFinish) {
  config_.copy_yields_to_veeam = false;
  config_.wait_for_backup_minutes = 5;
  store_.copier_active_ = true;
  store_.copier_leaves_at_ = 3min;
  EXPECT_EQ(lock(), kExitOk);
  EXPECT_GE(clock_.monotonic(), 3min);
  EXPECT_LE(clock_.monotonic(), 3min + 1s);
  EXPECT_NE(out_.str().find("copy-yields-to-veeam = no: waiting up to 5 min for it to finish\n"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("veeam-lock: the copy finished after 3 min; lease taken for job 'Daily'"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(store_.leases_.size(), 1u);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(VeeamLockTest, RemovesItsLeaseAndMailsWhenTheCopyDoesNotFinishInTime) {
  config_.copy_yields_to_veeam = false;
  config_.wait_for_backup_minutes = 5;
  store_.copier_active_ = true;
  store_.leases_ = {lease_of("Weekly", clock_.now_unix(), "w.lease")};
  EXPECT_EQ(lock(), kExitTempFail);
  EXPECT_EQ(clock_.monotonic(), 5min);
  EXPECT_EQ(store_.calls_, (std::vector<std::string>{"create Daily", "remove ours.lease"}));
  ASSERT_EQ(store_.leases_.size(), 1u);
  EXPECT_EQ(store_.leases_[0].job, "Weekly");  // only ours is taken back
  EXPECT_NE(err_.str().find(
                "veeam-lock: ERROR: gave up after waiting 5 min for the copy to disk 1234-ABCD (pid 555) "
                "to finish; lease removed; Veeam job 'Daily' should not write the repository now"),
            std::string::npos)
      << err_.str();
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_NE(mailer_.sent_[0].subject.find("Veeam job 'Daily' gave up waiting for a copy"), std::string::npos);
}

TEST_F(VeeamLockTest, WarnsWhenTheWaitReachesVeeamsScriptTimeout) {
  config_.copy_yields_to_veeam = false;
  config_.wait_for_backup_minutes = 10;
  store_.copier_active_ = true;
  store_.copier_leaves_at_ = 1s;
  EXPECT_EQ(lock(), kExitOk);
  EXPECT_NE(err_.str().find("warning: wait-for-backup-minutes = 10 reaches Veeam's script timeout"),
            std::string::npos)
      << err_.str();
}

TEST_F(VeeamLockTest, RefusesABadJobNameWithoutTouchingTheLeases) {
  EXPECT_EQ(lock("two\nlines"), kExitUsage);
  EXPECT_EQ(unlock(""), kExitUsage);
  EXPECT_TRUE(store_.calls_.empty());
  EXPECT_NE(err_.str().find("veeam-lock: bad --job: the job name contains a control character"),
            std::string::npos);
}

TEST_F(VeeamLockTest, UnlockRemovesTheOldestLeaseOfTheJob) {
  const std::int64_t now = clock_.now_unix();
  store_.leases_ = {lease_of("Daily", now - 60, "b.lease"), lease_of("Daily", now - 600, "a.lease"),
                    lease_of("Weekly", now - 10, "w.lease")};
  EXPECT_EQ(unlock(), kExitOk);
  ASSERT_EQ(store_.leases_.size(), 2u);
  EXPECT_EQ(store_.leases_[0].file, "b.lease");
  EXPECT_EQ(out_.str(),
            "veeam-unlock: lease of job 'Daily' removed after 10 min; 1 more of this job remain; "
            "still held by 'Daily', 'Weekly'\n");
}

TEST_F(VeeamLockTest, UnlockOfTheLastLeaseSaysTheRepositoryIsFree) {
  store_.leases_ = {lease_of("Daily", clock_.now_unix() - 5, "a.lease")};
  EXPECT_EQ(unlock(), kExitOk);
  EXPECT_TRUE(store_.leases_.empty());
  EXPECT_EQ(out_.str(),
            "veeam-unlock: lease of job 'Daily' removed after 5 s; no Veeam job holds the repository now\n");
}

TEST_F(VeeamLockTest, UnlockWithoutALeaseIsOnlyAWarning) {
  store_.leases_ = {lease_of("Weekly", clock_.now_unix(), "w.lease")};
  EXPECT_EQ(unlock(), kExitOk);
  EXPECT_EQ(store_.leases_.size(), 1u);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "veeam-unlock: warning: job 'Daily' holds no lease (already removed, expired, or its "
            "veeam-lock failed); nothing to do\n");
  EXPECT_TRUE(mailer_.sent_.empty());
}

TEST_F(VeeamLockTest, UnlockFailureFailsAndMails) {
  store_.fail_remove_ = true;
  EXPECT_EQ(unlock(), kExitFailed);
  EXPECT_NE(err_.str().find("veeam-unlock: ERROR: could not remove the lease of Veeam job 'Daily'"),
            std::string::npos);
  EXPECT_NE(err_.str().find("copies wait for it until it expires (24 h after it was taken)"),
            std::string::npos);
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_NE(mailer_.sent_[0].subject.find("veeam-unlock: lease of Veeam job 'Daily' not removed"),
            std::string::npos);
}

TEST_F(VeeamLockTest, ListShowsLeasesAndTheCopier) {
  const std::int64_t now = clock_.now_unix();
  store_.leases_ = {lease_of("Daily", now - 3600, "a.lease")};
  store_.copier_active_ = true;
  EXPECT_EQ(run_veeam_list(env()), kExitOk);
  EXPECT_EQ(out_.str(),
            "1 Veeam lease in '/var/lib/usb-backup-copier/veeam':\n"
            "  job 'Daily' from backup-server (pid 9), created 2027-01-15T07:00:00Z, expires "
            "2027-01-16T07:00:00Z (in 23 h 00 min)  [a.lease]\n"
            "Copier: the copy to disk 1234-ABCD (pid 555) is reading the repository.\n");
}

TEST_F(VeeamLockTest, ListWithNothingSaysSo) {
  EXPECT_EQ(run_veeam_list(env()), kExitOk);
  EXPECT_EQ(out_.str(),
            "No Veeam leases in '/var/lib/usb-backup-copier/veeam'.\n"
            "Copier: no copy is reading the repository.\n");
}

}  // namespace
}  // namespace ubc
