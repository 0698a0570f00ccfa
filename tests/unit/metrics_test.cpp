// SPDX-License-Identifier: MIT
#include "core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ubc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kDay = 86400;

HistoryRow row(std::string uuid, std::string label, std::int64_t started, std::int64_t finished, std::string outcome,
               std::uint64_t bytes, std::string action = "copy") {
  HistoryRow r;
  r.uuid = std::move(uuid);
  r.label = std::move(label);
  r.started_at = started;
  r.finished_at = finished;
  r.outcome = std::move(outcome);
  r.bytes = bytes;
  r.action = std::move(action);
  return r;
}

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() {
    config_.disks = {{"aaaaaaaa-1111-4222-8333-444455556666", {}, 3}, {"1a2b-3c4d", {}, 4}, {"0123456789abcdef", {}, 5}};
    config_.stale_after_days = 8;
    overview_.now = 1'800'000'000;
  }
  Config config_;
  StatusOverview overview_;
  std::vector<HistoryRow> successes_;
};

TEST_F(MetricsTest, WritesEveryDiskAndRunningJobInTheTextFormat) {
  const std::int64_t now = overview_.now;
  // Disk A: its newest run failed; its last good copy is 10 days old, so it is stale.
  overview_.last_runs.push_back(row("AAAAAAAA-1111-4222-8333-444455556666", "Mon \"A\"\\x", now - 3600, now - 3000,
                                    "failed", 123));
  successes_.push_back(row("AAAAAAAA-1111-4222-8333-444455556666", "Mon \"A\"\\x", now - 10 * kDay - 500,
                           now - 10 * kDay, "success", 5'000'000'000'123ULL));
  // Disk B: a fresh good copy that was read back.
  HistoryRow b = row("1a2b-3c4d", "line\nbreak", now - 7200, now - 3600, "warning", 42);
  b.verification = HistoryVerification{3, 4096, 0, 9};
  overview_.last_runs.push_back(b);
  successes_.push_back(b);
  // Disk C: never ran. One job runs on disk B.
  Status job;
  job.uuid = "1a2b-3c4d";
  job.label = "line\nbreak";
  job.phase = Phase::copying;
  job.bytes_done = 1000;
  job.bytes_total = 4000;
  overview_.jobs.push_back(job);

  const std::string expected =
      "# HELP usb_backup_copier_last_success_timestamp_seconds Unix time the last good copy (success or warning) "
      "finished; 0: none recorded.\n"
      "# TYPE usb_backup_copier_last_success_timestamp_seconds gauge\n"
      "usb_backup_copier_last_success_timestamp_seconds{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\","
      "label=\"Mon \\\"A\\\"\\\\x\"} 1799136000\n"
      "usb_backup_copier_last_success_timestamp_seconds{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 1799996400\n"
      "usb_backup_copier_last_success_timestamp_seconds{uuid=\"0123456789abcdef\",label=\"\"} 0\n"
      "# HELP usb_backup_copier_last_run_outcome The outcome of the disk's newest run (copy or verify), as a label; "
      "always 1.\n"
      "# TYPE usb_backup_copier_last_run_outcome gauge\n"
      "usb_backup_copier_last_run_outcome{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\",label=\"Mon \\\"A\\\"\\\\x\","
      "action=\"copy\",outcome=\"failed\"} 1\n"
      "usb_backup_copier_last_run_outcome{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\",action=\"copy\","
      "outcome=\"warning\"} 1\n"
      "# HELP usb_backup_copier_last_run_bytes Bytes copied by the disk's newest run.\n"
      "# TYPE usb_backup_copier_last_run_bytes gauge\n"
      "usb_backup_copier_last_run_bytes{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\",label=\"Mon \\\"A\\\"\\\\x\"} "
      "123\n"
      "usb_backup_copier_last_run_bytes{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 42\n"
      "# HELP usb_backup_copier_last_run_duration_seconds Duration of the disk's newest run.\n"
      "# TYPE usb_backup_copier_last_run_duration_seconds gauge\n"
      "usb_backup_copier_last_run_duration_seconds{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\","
      "label=\"Mon \\\"A\\\"\\\\x\"} 600\n"
      "usb_backup_copier_last_run_duration_seconds{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 3600\n"
      "# HELP usb_backup_copier_last_verified_bytes Bytes read back and compared by the disk's newest run; 0: "
      "none.\n"
      "# TYPE usb_backup_copier_last_verified_bytes gauge\n"
      "usb_backup_copier_last_verified_bytes{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\","
      "label=\"Mon \\\"A\\\"\\\\x\"} 0\n"
      "usb_backup_copier_last_verified_bytes{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 4096\n"
      "# HELP usb_backup_copier_disk_stale 1 when the disk has had no good copy for stale-after-days, else 0.\n"
      "# TYPE usb_backup_copier_disk_stale gauge\n"
      "usb_backup_copier_disk_stale{uuid=\"aaaaaaaa-1111-4222-8333-444455556666\",label=\"Mon \\\"A\\\"\\\\x\"} 1\n"
      "usb_backup_copier_disk_stale{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 0\n"
      "usb_backup_copier_disk_stale{uuid=\"0123456789abcdef\",label=\"\"} 1\n"
      "# HELP usb_backup_copier_job_bytes_done Bytes the running job has copied or verified so far.\n"
      "# TYPE usb_backup_copier_job_bytes_done gauge\n"
      "usb_backup_copier_job_bytes_done{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 1000\n"
      "# HELP usb_backup_copier_job_bytes_total Bytes the running job has to copy or verify in all; 0: not known "
      "yet.\n"
      "# TYPE usb_backup_copier_job_bytes_total gauge\n"
      "usb_backup_copier_job_bytes_total{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\"} 4000\n"
      "# HELP usb_backup_copier_job_phase The phase of the running job, as a label; always 1.\n"
      "# TYPE usb_backup_copier_job_phase gauge\n"
      "usb_backup_copier_job_phase{uuid=\"1a2b-3c4d\",label=\"line\\nbreak\",phase=\"copying\"} 1\n";
  EXPECT_EQ(render_metrics(config_, overview_, successes_), expected);
}

TEST_F(MetricsTest, AGoodCopyJustInsideTheLimitIsNotStale) {
  successes_.push_back(row("1a2b-3c4d", "B", 0, overview_.now - 8 * kDay, "success", 1));
  const std::string text = render_metrics(config_, overview_, successes_);
  EXPECT_THAT(text, HasSubstr("usb_backup_copier_disk_stale{uuid=\"1a2b-3c4d\",label=\"B\"} 0\n"));
  successes_[0].finished_at -= 1;
  EXPECT_THAT(render_metrics(config_, overview_, successes_),
              HasSubstr("usb_backup_copier_disk_stale{uuid=\"1a2b-3c4d\",label=\"B\"} 1\n"));
}

TEST_F(MetricsTest, WithoutJobsTheirFamiliesAreLeftOut) {
  const std::string text = render_metrics(config_, overview_, successes_);
  EXPECT_THAT(text, Not(HasSubstr("job_bytes_done")));
  EXPECT_THAT(text, Not(HasSubstr("last_run_outcome")));
  EXPECT_THAT(text, HasSubstr("# TYPE usb_backup_copier_disk_stale gauge\n"));
}

TEST(EscapeLabelValueTest, EscapesWhatTheFormatNamesAndReplacesBrokenUtf8) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("B\xC3\xBCro"), "B\xC3\xBCro");
  EXPECT_EQ(escape_label_value("x\xFFy\xC3"), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(escape_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate is not UTF-8";
}

}  // namespace
}  // namespace ubc
