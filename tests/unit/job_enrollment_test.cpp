// SPDX-License-Identifier: MIT
// The copy job's enrollment check: right after mounting, before anything is written.
#include "core/enrollment.h"
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "5f1e0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

class JobEnrollmentTest : public JobTest {
 protected:
  // The disk as `enroll` leaves it: the secret on the disk, its digest in the store.
  void enroll(const std::string& on_disk = std::string(kSecret) + "\n") {
    enrollment_.records_[lower(kUuid)] = Enrollment{lower(kUuid), "OFFSITE1", 1764000000, enrollment_.digest(kSecret)};
    mounter_.disks_[kDev][kEnrollmentFile] = on_disk;
  }
  // Refused: failed, nothing written to the disk, no rsync, no lock, unmounted, one
  // security mail before the end mail.
  void expect_refused(const JobReport& r, const std::map<std::string, std::string>& disk_before,
                      const std::string& why) {
    EXPECT_EQ(r.outcome, Outcome::failed);
    EXPECT_EQ(exit_code(r), 1);
    EXPECT_THAT(r.reason, HasSubstr("A disk claiming to be 'OFFSITE1' (0A1B2C3D-1111-4222-8333-444455556666) was refused"));
    EXPECT_THAT(r.reason, HasSubstr(why));
    EXPECT_THAT(r.advice, HasSubstr("usb-backup-copier enroll --device /dev/sdb1"));
    EXPECT_EQ(disk(), disk_before) << "nothing may be written to a refused disk";
    for (const auto& path : fs_.writes_) EXPECT_THAT(path, Not(HasSubstr(kMount))) << path;
    EXPECT_TRUE(processes_.started_.empty()) << "no rsync for a refused disk";
    EXPECT_TRUE(run_lock_.paths_.empty()) << "the run lock is not even taken";
    EXPECT_FALSE(status_.saw_phase(Phase::copying));
    expect_undone(r);
    ASSERT_EQ(mailer_.sent_.size(), 2u) << "the security mail, then the end mail";
    const Email& alert = mailer_.sent_[0];
    EXPECT_THAT(alert.subject, HasSubstr("SECURITY"));
    EXPECT_THAT(alert.subject, HasSubstr("refused"));
    EXPECT_EQ(alert.to, std::vector<std::string>{"sysop@example.com"});
    EXPECT_THAT(alert.body, HasSubstr(why));
    EXPECT_THAT(alert.body, HasSubstr("usb-backup-copier enroll --device /dev/sdb1"));
    EXPECT_THAT(mailer_.sent_[1].subject, HasSubstr("FAILED"));
    ASSERT_EQ(history_.recorded_.size(), 1u);
    EXPECT_EQ(history_.recorded_[0].outcome, Outcome::failed);
    EXPECT_THAT(history_.recorded_[0].reason, HasSubstr(why));
  }
};

TEST_F(JobEnrollmentTest, CopiesAnEnrolledDiskWhoseSecretMatches) {
  config_.require_enrollment = true;
  enroll();
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(logged("The disk's enrollment secret matches", r));
  EXPECT_EQ(disk_state()->state, "complete");
  EXPECT_EQ(disk().at(kEnrollmentFile), std::string(kSecret) + "\n") << "the copy keeps the secret";
  EXPECT_EQ(mailer_.sent_.size(), 2u) << "a start mail and an end mail, no alert";
}

TEST_F(JobEnrollmentTest, AcceptsTheSecretWithoutItsNewline) {
  config_.require_enrollment = true;
  enroll(kSecret);
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  EXPECT_EQ(run_job().outcome, Outcome::success);
}

TEST_F(JobEnrollmentTest, RefusesADiskWithoutSecretWhenEnrollmentIsRequired) {
  config_.require_enrollment = true;
  enroll();
  mounter_.disks_[kDev].erase(kEnrollmentFile);
  mounter_.disks_[kDev]["Jobs/old.vbk"] = "older copy";
  const auto before = disk();
  expect_refused(run_job(), before, "its enrollment secret is missing");
}

TEST_F(JobEnrollmentTest, RefusesADiskThatWasNeverEnrolledWhenEnrollmentIsRequired) {
  config_.require_enrollment = true;
  const auto before = disk();
  expect_refused(run_job(), before, "it was never enrolled on this server");
}

TEST_F(JobEnrollmentTest, RefusesAWrongSecretEvenWhenEnrollmentIsNotRequired) {
  for (const bool require : {true, false}) {
    SCOPED_TRACE(require);
    mailer_.sent_.clear();
    history_.recorded_.clear();
    config_.require_enrollment = require;
    enroll(std::string(64, 'f') + "\n");
    const auto before = disk();
    expect_refused(run_job(), before, "its enrollment secret does not match");
  }
}

TEST_F(JobEnrollmentTest, RefusesASecretThatIsNoRegularFileOrTooBig) {
  config_.require_enrollment = false;
  enroll();
  fs_.not_regular_.insert(std::string(kMount) + "/" + kEnrollmentFile);
  auto before = disk();
  expect_refused(run_job(), before, "its enrollment secret could not be read");

  fs_.not_regular_.clear();
  mailer_.sent_.clear();
  history_.recorded_.clear();
  mounter_.disks_[kDev][kEnrollmentFile] = std::string(kEnrollmentMaxBytes + 1, 'a');
  before = disk();
  expect_refused(run_job(), before, "its enrollment secret could not be read");
}

TEST_F(JobEnrollmentTest, CopiesAnEnrolledDiskWithoutSecretWithAWarningAndAnAlertWhenNotRequired) {
  config_.require_enrollment = false;
  enroll();
  mounter_.disks_[kDev].erase(kEnrollmentFile);
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::warning);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_THAT(r.warnings[0], HasSubstr("carries no enrollment secret"));
  EXPECT_THAT(r.warnings[0], HasSubstr("require-enrollment = no"));
  ASSERT_EQ(mailer_.sent_.size(), 3u) << "the alert, the start mail and the end mail";
  EXPECT_THAT(mailer_.sent_[0].subject, HasSubstr("SECURITY"));
  EXPECT_THAT(mailer_.sent_[0].subject, HasSubstr("WITHOUT its enrollment secret"));
}

TEST_F(JobEnrollmentTest, CopiesADiskThatWasNeverEnrolledWhenNotRequired) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_TRUE(logged("The disk is not enrolled; it is copied to because require-enrollment = no", r));
  EXPECT_EQ(mailer_.sent_.size(), 2u);
}

TEST_F(JobEnrollmentTest, FailsWithoutWritingWhenTheStoreCannotBeRead) {
  config_.require_enrollment = true;
  enrollment_.fail_ = "read '/var/lib/usb-backup-copier/enrolled/x.json': Input/output error";
  const auto before = disk();
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_THAT(r.reason, HasSubstr("Input/output error"));
  EXPECT_EQ(disk(), before);
  EXPECT_TRUE(processes_.started_.empty());
  expect_undone(r);
}

TEST_F(JobEnrollmentTest, VerifyingADiskDoesNotAskForItsSecret) {
  config_.require_enrollment = true;
  const JobReport r = run_job({JobRequest::By::device, kDev, false, JobAction::verify});
  EXPECT_THAT(r.reason, Not(HasSubstr("refused")));
  for (const auto& mail : mailer_.sent_) EXPECT_THAT(mail.subject, Not(HasSubstr("SECURITY")));
}

}  // namespace
}  // namespace ubc::test
