// SPDX-License-Identifier: MIT
// metrics-textfile: every run leaves the metrics for node_exporter's textfile collector;
// a file that cannot be written is told in the report and never touches the copy.
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kTextfile = "/var/lib/prometheus/node-exporter/usb-backup-copier.prom";

HistoryRow good_copy_row() {
  HistoryRow row;
  row.uuid = kUuid;
  row.label = "OFFSITE1";
  row.started_at = 1'700'000'000;
  row.finished_at = 1'700'000'600;
  row.outcome = "success";
  row.bytes = 3000;
  row.id = 7;
  return row;
}

TEST_F(JobTest, EveryRunWritesTheMetricsFileFromTheHistory) {
  config_.metrics_textfile = kTextfile;
  history_.rows_ = {good_copy_row()};
  history_.success_rows_ = {good_copy_row()};
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  ASSERT_EQ(fs_.files_.count(kTextfile), 1u);
  const std::string& text = fs_.files_[kTextfile];
  EXPECT_THAT(text, HasSubstr("usb_backup_copier_last_success_timestamp_seconds{uuid=\"" + std::string(kUuid)));
  EXPECT_THAT(text, HasSubstr("usb_backup_copier_last_run_bytes{"));
  EXPECT_THAT(text, HasSubstr("} 3000\n"));
}

TEST_F(JobTest, WithoutAMetricsFileNoneIsWritten) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  for (const auto& [path, _] : fs_.files_) EXPECT_FALSE(path.ends_with(".prom")) << path;
}

TEST_F(JobTest, AnUnwritableMetricsFileIsAWarningNeverAWorseOutcome) {
  config_.metrics_textfile = kTextfile;
  fs_.broken_prefixes_ = {"/var/lib/prometheus"};
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();

  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  ASSERT_TRUE(disk_state());
  EXPECT_EQ(disk_state()->state, "complete");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("The metrics file '" + std::string(kTextfile) + "' could not be written"));
  ASSERT_FALSE(mailer_.sent_.empty());
  EXPECT_THAT(mailer_.sent_.back().body, HasSubstr("could not be written"));
}

}  // namespace
}  // namespace ubc::test
