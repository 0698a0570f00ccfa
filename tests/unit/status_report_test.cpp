// SPDX-License-Identifier: MIT
#include "core/status_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"

namespace ubc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StatusReportTest : public ::testing::Test {
 protected:
  StatusReportTest() {
    config_.disks = {{"aaaaaaaa-1111-4222-8333-444455556666", {}, 3}, {"1a2b-3c4d", {}, 3}, {"0123456789abcdef", {}, 3}};
    config_.stale_after_days = 8;
    overview_.now = 1'800'000'000;
  }
  Config config_;
  StatusOverview overview_;
};

TEST_F(StatusReportTest, ShowsTheRunningCopyWithItsProgress) {
  Status s;
  s.uuid = "1A2B-3C4D";
  s.label = "OFFSITE2";
  s.devnode = "/dev/sdc1";
  s.pid = 77;
  s.phase = Phase::copying;
  s.bytes_done = 1ULL << 30;
  s.bytes_total = 4ULL << 30;
  overview_.jobs.push_back(s);
  const std::string text = render_status_text(config_, overview_);
  EXPECT_THAT(text, HasSubstr("Disk 1A2B-3C4D 'OFFSITE2' on /dev/sdc1 (pid 77)"));
  EXPECT_THAT(text, HasSubstr("1.00 GiB of 4.00 GiB"));
  EXPECT_THAT(text, Not(HasSubstr("No copy is running")));
}

TEST_F(StatusReportTest, MarksDisksWithoutARecentGoodCopyAsStale) {
  const std::int64_t day = 86400;
  overview_.last_runs.push_back({"AAAAAAAA-1111-4222-8333-444455556666", "", overview_.now - 20 * day,
                                 overview_.now - 20 * day + 60, "success", "", 1000, 1, 0, "", "copy", std::nullopt});
  overview_.last_runs.push_back({"1A2B-3C4D", "", overview_.now - day, overview_.now - day + 60, "success", "", 1000, 1, 0, "", "copy", std::nullopt});
  const std::string text = render_status_text(config_, overview_);
  EXPECT_THAT(text, HasSubstr("aaaaaaaa-1111-4222-8333-444455556666: last run"));
  EXPECT_THAT(text, HasSubstr("STALE: last good copy 20 d 0 h ago"));
  EXPECT_THAT(text, HasSubstr("0123456789abcdef: never copied"));
  EXPECT_EQ(text.find("STALE"), text.rfind("STALE")) << "only the old disk is stale";
}

TEST_F(StatusReportTest, ShowsAFailedRunsReason) {
  overview_.last_runs.push_back({"1A2B-3C4D", "", overview_.now - 60, overview_.now, "failed", "Not enough space", 0, 0, 0, "", "copy", std::nullopt});
  EXPECT_THAT(render_status_text(config_, overview_), HasSubstr("failed (Not enough space)"));
}

TEST_F(StatusReportTest, ListsVeeamLeases) {
  Lease l;
  l.job = "Nightly";
  l.host = "vbr01";
  l.created_at = overview_.now;
  l.expires_at = overview_.now + 3600;
  overview_.leases.push_back(l);
  EXPECT_THAT(render_status_text(config_, overview_), HasSubstr("job 'Nightly' from vbr01"));
}

const Json& disk_named(const Json& status, const std::string& uuid) {
  for (const Json& d : status.at("disks"))
    if (json_string(d, "uuid") == uuid) return d;
  throw std::runtime_error("no disk " + uuid + " in " + dump_json(status));
}

TEST_F(StatusReportTest, JsonIsAnObjectWithJobsLeasesAndDisks) {
  overview_.last_runs.push_back({"1A2B-3C4D", "", overview_.now - 60, overview_.now, "success", "", 5, 1, 0, "", "copy", std::nullopt});
  const std::string json = render_status_json(config_, overview_);
  const auto obj = parse_json_object(json);
  ASSERT_TRUE(obj) << json;
  EXPECT_EQ(json_int(*obj, "now"), overview_.now);
  EXPECT_EQ(obj->at("jobs"), Json::array());
  const Json& disks = obj->at("disks");
  ASSERT_EQ(disks.size(), config_.disks.size()) << json;
  const Json& copied = disk_named(*obj, "1a2b-3c4d");
  EXPECT_EQ(json_string(copied, "last_outcome"), "success");
  EXPECT_EQ(json_int(copied, "last_run_started_at"), overview_.now - 60);
  EXPECT_EQ(json_bool(copied, "stale"), false);
  const Json& never = disk_named(*obj, "0123456789abcdef");
  EXPECT_TRUE(never.at("last_outcome").is_null());
  EXPECT_EQ(json_bool(never, "stale"), true);
}

TEST_F(StatusReportTest, ShowsWhatTheLastRunVerified) {
  overview_.last_runs.push_back({"1A2B-3C4D", "", overview_.now - 60, overview_.now, "failed", "Verification failed",
                                 0, 0, 0, "", "verify", HistoryVerification{12, 4096, 1, 3}});
  EXPECT_THAT(render_status_text(config_, overview_),
              HasSubstr("verify failed (Verification failed), verified 12 files (4.00 KiB) in 3 s, 1 mismatches"));
  const auto obj = parse_json_object(render_status_json(config_, overview_));
  ASSERT_TRUE(obj);
  const Json& disk = disk_named(*obj, "1a2b-3c4d");
  EXPECT_EQ(json_string(disk, "last_action"), "verify");
  EXPECT_EQ(json_count(disk, "last_verified_files"), 12u);
  EXPECT_EQ(json_count(disk, "last_verified_bytes"), 4096u);
  EXPECT_EQ(json_count(disk, "last_verify_mismatches"), 1u);
}

}  // namespace
}  // namespace ubc
