// SPDX-License-Identifier: MIT
// A configuration whose password others can read: the run's report says so.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

TEST_F(JobTest, ReportsTheConfigurationsSecretWarningsInTheRunAndItsMail) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const std::string warning =
      "/etc/usb-backup-copier/config.ini:21: Mail.password: this file holds the mail password and is "
      "readable by every user; `chmod 600 /etc/usb-backup-copier/config.ini`, or move the password to password-file";
  Job job(config_, *ports_, JobContext{"repo1", 4242, {}, {warning}});
  const JobReport r = job.run({JobRequest::By::device, kDev, false});
  EXPECT_EQ(r.outcome, Outcome::warning);
  EXPECT_EQ(r.warnings, std::vector<std::string>{warning});
  EXPECT_THAT(r.run_log, HasSubstr("readable by every user"));
  ASSERT_EQ(mailer_.sent_.size(), 2u);
  EXPECT_THAT(mailer_.sent_[1].body, HasSubstr("readable by every user"));
}

}  // namespace
}  // namespace ubc::test
