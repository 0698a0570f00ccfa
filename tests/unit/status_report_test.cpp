// SPDX-License-Identifier: MIT
#include "core/status_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"

namespace ubc {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(UBC_FIXTURES_DIR) + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

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

constexpr std::int64_t kDay = 86400;

HistoryRow row(std::string uuid, std::int64_t finished_at, std::string outcome, std::string action = "copy",
               std::string reason = "", std::uint64_t bytes = 1000) {
  HistoryRow r;
  r.uuid = std::move(uuid);
  r.started_at = finished_at - 60;
  r.finished_at = finished_at;
  r.outcome = std::move(outcome);
  r.action = std::move(action);
  r.reason = std::move(reason);
  r.bytes = bytes;
  r.files = 1;
  return r;
}

TEST_F(StatusReportTest, MarksDisksWithoutARecentGoodCopyAsStale) {
  overview_.last_good = {row("AAAAAAAA-1111-4222-8333-444455556666", overview_.now - 20 * kDay, "success"),
                         row("1A2B-3C4D", overview_.now - kDay, "success")};
  overview_.last_runs = overview_.last_good;
  const std::string text = render_status_text(config_, overview_);
  EXPECT_THAT(text, HasSubstr("aaaaaaaa-1111-4222-8333-444455556666: last good copy "));
  EXPECT_THAT(text, HasSubstr("(20 d 0 h ago, 1000 B), STALE (stale-after-days = 8)"));
  EXPECT_THAT(text, HasSubstr("0123456789abcdef: no good copy recorded, STALE"));
  EXPECT_THAT(text, HasSubstr("1a2b-3c4d: last good copy "));
  std::size_t stale = 0;
  for (auto at = text.find("STALE"); at != std::string::npos; at = text.find("STALE", at + 1)) ++stale;
  EXPECT_EQ(stale, 2u) << "the old disk and the never-copied one:\n" << text;
  const auto fresh = text.find("1a2b-3c4d: last good copy ");
  EXPECT_EQ(text.find("STALE", fresh), text.find("0123456789abcdef: no good copy recorded, STALE") +
                                           std::string("0123456789abcdef: no good copy recorded, ").size())
      << text;
}

TEST_F(StatusReportTest, AFailedRunAfterAGoodCopyKeepsTheDiskFreshAndShowsItsReason) {
  // The newest run failed, but the good copy of yesterday is what a restore relies on.
  overview_.last_good = {row("1A2B-3C4D", overview_.now - kDay, "success")};
  overview_.last_runs = {row("1A2B-3C4D", overview_.now - 60, "failed", "copy", "Not enough space")};
  overview_.last_runs[0].id = 2;
  const std::string text = render_status_text(config_, overview_);
  EXPECT_THAT(text, HasSubstr("1a2b-3c4d: last good copy "));
  EXPECT_THAT(text, HasSubstr("last run 2027-01-15T07:58:00Z failed (Not enough space)"));
  const auto obj = parse_json_object(render_status_json(config_, overview_));
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_bool(obj->at("disks").at(1), "stale"), false) << dump_json(*obj);
  EXPECT_EQ(json_string(obj->at("disks").at(1).at("last_run"), "outcome"), "failed");
}

TEST_F(StatusReportTest, AVerifyRunIsNotAGoodCopy) {
  overview_.last_good = {row("1A2B-3C4D", overview_.now - 10 * kDay, "success")};
  overview_.last_runs = {row("1A2B-3C4D", overview_.now - 60, "success", "verify")};
  const auto obj = parse_json_object(render_status_json(config_, overview_));
  ASSERT_TRUE(obj);
  const Json& disk = obj->at("disks").at(1);
  EXPECT_EQ(json_bool(disk, "stale"), true) << "checked yesterday, but copied 10 days ago";
  EXPECT_EQ(json_int(disk.at("last_good_copy"), "age_seconds"), 10 * kDay);
  EXPECT_EQ(json_string(disk.at("last_run"), "action"), "verify");
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
  HistoryRow good = row("1A2B-3C4D", overview_.now, "success", "copy", "", 5);
  good.label = "OFFSITE2";
  overview_.last_runs = overview_.last_good = {good};
  const std::string json = render_status_json(config_, overview_);
  const auto obj = parse_json_object(json);
  ASSERT_TRUE(obj) << json;
  EXPECT_EQ(json_int(*obj, "now"), overview_.now);
  EXPECT_EQ(obj->at("jobs"), Json::array());
  EXPECT_EQ(obj->at("veeam_leases"), Json::array());
  const Json& disks = obj->at("disks");
  ASSERT_EQ(disks.size(), config_.disks.size()) << json;
  const Json& copied = disk_named(*obj, "1a2b-3c4d");
  EXPECT_EQ(json_string(copied, "label"), "OFFSITE2");
  EXPECT_EQ(json_bool(copied, "stale"), false);
  EXPECT_EQ(json_int(copied, "stale_after_days"), 8);
  EXPECT_EQ(json_int(copied.at("last_good_copy"), "finished_at"), overview_.now);
  EXPECT_EQ(json_int(copied.at("last_good_copy"), "age_seconds"), 0);
  EXPECT_EQ(json_count(copied.at("last_good_copy"), "bytes"), 5u);
  EXPECT_EQ(json_string(copied.at("last_run"), "outcome"), "success");
  EXPECT_EQ(json_int(copied.at("last_run"), "started_at"), overview_.now - 60);
  EXPECT_TRUE(copied.at("last_verification").is_null());
  const Json& never = disk_named(*obj, "0123456789abcdef");
  EXPECT_TRUE(never.at("last_good_copy").is_null());
  EXPECT_TRUE(never.at("last_run").is_null());
  EXPECT_EQ(json_bool(never, "stale"), true);
}

TEST_F(StatusReportTest, ShowsTheLastVerificationEvenWhenANewerRunReadNothing) {
  HistoryRow checked = row("1A2B-3C4D", overview_.now - kDay, "failed", "verify", "Verification failed", 0);
  checked.verification = HistoryVerification{12, 4096, 1, 3};
  overview_.last_verifications = {checked};
  overview_.last_runs = {row("1A2B-3C4D", overview_.now - 60, "failed", "copy", "Not enough space")};
  EXPECT_THAT(render_status_text(config_, overview_),
              HasSubstr("last verification 2027-01-14T08:00:00Z (verify): 12 files (4.00 KiB) in 3 s, 1 mismatch"));
  const auto obj = parse_json_object(render_status_json(config_, overview_));
  ASSERT_TRUE(obj);
  const Json& v = disk_named(*obj, "1a2b-3c4d").at("last_verification");
  EXPECT_EQ(json_string(v, "action"), "verify");
  EXPECT_EQ(json_string(v, "outcome"), "failed");
  EXPECT_EQ(json_count(v, "files"), 12u);
  EXPECT_EQ(json_count(v, "bytes"), 4096u);
  EXPECT_EQ(json_count(v, "mismatches"), 1u);
  EXPECT_EQ(json_int(v, "seconds"), 3);
}

TEST_F(StatusReportTest, ByteCountsStayExactAndLabelsStayText) {
  HistoryRow good = row("1A2B-3C4D", overview_.now, "success", "copy", "", (1ULL << 53) + 1);
  good.label = "<script>\xff";
  overview_.last_good = {good};
  const std::string json = render_status_json(config_, overview_);
  const auto obj = parse_json_object(json);
  ASSERT_TRUE(obj) << json;
  const Json& disk = disk_named(*obj, "1a2b-3c4d");
  EXPECT_EQ(json_count(disk.at("last_good_copy"), "bytes"), (1ULL << 53) + 1);
  EXPECT_EQ(json_string(disk, "label"), "<script>\xEF\xBF\xBD") << "invalid UTF-8 replaced, not passed on";
}

TEST_F(StatusReportTest, ListsEachDisksRestorePointsAsLastSeenAndNoneForAMirror) {
  overview_.last_good = {row("1A2B-3C4D", overview_.now - kDay, "success"),
                         row("AAAAAAAA-1111-4222-8333-444455556666", overview_.now - kDay, "success")};
  overview_.last_runs = overview_.last_good;
  overview_.restore_points = {{"aaaaaaaa-1111-4222-8333-444455556666", overview_.now - kDay,
                               {{"2027-01-13T080000Z", overview_.now - 2 * kDay, 10, 3ULL << 30, true},
                                {"2027-01-14T080000Z", overview_.now - kDay, 11, 4ULL << 30, false}}}};
  const std::string text = render_status_text(config_, overview_);
  EXPECT_THAT(text, HasSubstr("    restore points, as of 2027-01-14T08:00:00Z (newest last):\n"
                              "      2027-01-13T080000Z: 3.00 GiB in 10 files, verified\n"
                              "      2027-01-14T080000Z: 4.00 GiB in 11 files, not verified\n"));
  EXPECT_EQ(text.find("restore points"), text.rfind("restore points")) << "only the disk that has them:\n" << text;
  const auto obj = parse_json_object(render_status_json(config_, overview_));
  ASSERT_TRUE(obj);
  const Json& points = disk_named(*obj, "aaaaaaaa-1111-4222-8333-444455556666").at("restore_points");
  EXPECT_EQ(json_int(points, "seen_at"), overview_.now - kDay);
  ASSERT_EQ(points.at("points").size(), 2u);
  EXPECT_EQ(json_string(points.at("points").at(1), "name"), "2027-01-14T080000Z");
  EXPECT_EQ(json_count(points.at("points").at(1), "bytes"), 4ULL << 30);
  EXPECT_EQ(json_count(points.at("points").at(1), "files"), 11u);
  EXPECT_EQ(json_bool(points.at("points").at(1), "verified"), false);
  EXPECT_FALSE(disk_named(*obj, "1a2b-3c4d").contains("restore_points")) << "a mirror's entry is as before";
}

// The documented shape, byte for byte: a change here is a change for every reader of
// `status --json` and /api/status (tests/unit/fixtures/json/status.json; the README shows it).
TEST_F(StatusReportTest, JsonMatchesTheGoldenFile) {
  Status s;
  s.uuid = "1A2B-3C4D";
  s.label = "OFFSITE2";
  s.devnode = "/dev/sdc1";
  s.pid = 4711;
  s.phase = Phase::copying;
  s.bytes_done = 1ULL << 30;
  s.bytes_total = 4ULL << 30;
  s.rate_bytes_per_second = 99614720.5;
  s.eta_seconds = 32;
  s.started_at = overview_.now - 600;
  s.updated_at = overview_.now - 1;
  overview_.jobs = {s};
  Lease l;
  l.job = "Nightly";
  l.host = "vbr01";
  l.pid = 812;
  l.created_at = overview_.now - 60;
  l.expires_at = overview_.now + 86340;
  overview_.leases = {l};
  HistoryRow good = row("1A2B-3C4D", overview_.now - kDay, "warning", "copy", "Copy complete, with warnings", 5000000000123);
  good.label = "OFFSITE2";
  good.id = 41;
  good.verification = HistoryVerification{12, 5000000000123, 0, 41};
  HistoryRow failed = row("1A2B-3C4D", overview_.now - 3600, "failed", "copy", "Not enough space on the disk", 0);
  failed.id = 42;
  HistoryRow pointed = row("AAAAAAAA-1111-4222-8333-444455556666", overview_.now - 2 * kDay, "success", "copy",
                           "Copy complete", 3221225472);
  pointed.label = "ROTATION1";
  pointed.id = 40;
  overview_.last_good = {good, pointed};
  overview_.last_verifications = {good};
  overview_.last_runs = {failed, pointed};
  overview_.restore_points = {{"AAAAAAAA-1111-4222-8333-444455556666", overview_.now - 2 * kDay,
                               {{"2027-01-12T080000Z", overview_.now - 3 * kDay - 60, 10, 3221225472, true},
                                {"2027-01-13T080000Z", overview_.now - 2 * kDay - 60, 11, 3321225472, true}}}};
  const std::string json = render_status_json(config_, overview_);
  const std::string golden = read_fixture("json/status.json");
  EXPECT_EQ(json, golden) << "got:\n" << json;
}

}  // namespace
}  // namespace ubc
