// SPDX-License-Identifier: MIT
// A run history that cannot be read or written never touches the copy: a warning in the
// report and the mail, the disk complete and unmounted.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

TEST_F(JobTest, ABrokenHistoryIsAWarningNeverAFailedCopy) {
  history_.broken_ = true;
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  EXPECT_EQ(r.bytes_copied, 3000u);
  ASSERT_TRUE(disk_state());
  EXPECT_EQ(disk_state()->state, "complete");
  EXPECT_TRUE(r.unmounted);
  expect_undone(r);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("Could not read the run history (PRAGMA journal_mode=WAL"));
  EXPECT_THAT(r.warnings[1], HasSubstr("This run could not be recorded in the run history"));
  EXPECT_THAT(r.warnings[1], HasSubstr("the copy is not affected"));
  ASSERT_EQ(mailer_.sent_.size(), 2u) << "a start mail and an end mail";
  EXPECT_THAT(mailer_.sent_[1].subject, HasSubstr("WARNING"));
  EXPECT_THAT(mailer_.sent_[1].body, HasSubstr("could not be recorded in the run history"));
  EXPECT_THAT(mailer_.sent_[1].attachment, HasSubstr("could not be recorded in the run history"));
}

TEST_F(JobTest, AHistoryThatFailsOnlyToRecordStillLeavesAWarningInTheMail) {
  // Nothing to copy: the history is not read, only written at the end.
  processes_.runs_ = {dry_run(0, 0)};
  history_.broken_ = true;
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::warning) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("This run could not be recorded in the run history"));
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_THAT(mailer_.sent_[0].body, HasSubstr("could not be recorded in the run history"));
}

TEST_F(JobTest, TheHistoryKeepsTheRunsLog) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  ASSERT_EQ(history_.recorded_.size(), 1u);
  const std::string& stored = history_.recorded_[0].run_log;
  EXPECT_THAT(stored, HasSubstr("rsync"));
  // The stored log is the mail's attachment up to the moment of recording.
  EXPECT_EQ(r.run_log.compare(0, stored.size(), stored), 0);
}

}  // namespace
}  // namespace ubc::test
