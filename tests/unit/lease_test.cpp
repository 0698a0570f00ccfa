// SPDX-License-Identifier: MIT
#include "core/lease.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fakes/fake_veeam_gate.h"

namespace ubc {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

Lease lease_of(const std::string& job, std::int64_t created, const std::string& file = "") {
  Lease l = make_lease(job, "repo1", 100, created, 24);
  l.file = file.empty() ? std::to_string(created) + "-" + job + ".lease" : file;
  return l;
}

TEST(LeaseFormat, ParsesWhatItWrites) {
  Lease lease = make_lease("Daily backup", "repo1", 4242, kNow, 24);
  const std::string text = format_lease(lease);
  const LeaseParse parsed = parse_lease(text, "a.lease");
  ASSERT_TRUE(parsed.lease) << parsed.error;
  EXPECT_EQ(parsed.lease->job, "Daily backup");
  EXPECT_EQ(parsed.lease->host, "repo1");
  EXPECT_EQ(parsed.lease->pid, 4242);
  EXPECT_EQ(parsed.lease->created_at, kNow);
  EXPECT_EQ(parsed.lease->expires_at, kNow + 24 * 3600);
  EXPECT_EQ(parsed.lease->file, "a.lease");
}

TEST(LeaseFormat, WritesOneKeyValueLinePerFieldForShellTools) {
  const std::string text = format_lease(make_lease("Weekly", "repo1", 7, 1795395600, 2));
  EXPECT_NE(text.find("\njob=Weekly\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nhost=repo1\n"), std::string::npos);
  EXPECT_NE(text.find("\npid=7\n"), std::string::npos);
  EXPECT_NE(text.find("\ncreated=1795395600\n"), std::string::npos);
  EXPECT_NE(text.find("\nexpires=1795402800\n"), std::string::npos);
  EXPECT_NE(text.find("\nexpires-utc=2026-11-23T03:00:00Z\n"), std::string::npos);
}

TEST(LeaseFormat, KeepsSpacesAndEqualsSignsOfTheJobName) {
  const LeaseParse parsed = parse_lease("job=Backup a=b \ncreated=1\nexpires=2\n", "x.lease");
  ASSERT_TRUE(parsed.lease) << parsed.error;
  EXPECT_EQ(parsed.lease->job, "Backup a=b ");
}

TEST(LeaseFormat, SkipsCommentsBlankLinesCarriageReturnsAndUnknownKeys) {
  const LeaseParse parsed =
      parse_lease("# note\r\n\r\njob=J\r\nfuture-key=whatever\r\ncreated=10\r\nexpires=20\r\n", "x.lease");
  ASSERT_TRUE(parsed.lease) << parsed.error;
  EXPECT_EQ(parsed.lease->job, "J");
  EXPECT_EQ(parsed.lease->created_at, 10);
  EXPECT_EQ(parsed.lease->expires_at, 20);
  EXPECT_EQ(parsed.lease->pid, 0);
}

TEST(LeaseFormat, RefusesBrokenFilesSayingWhy) {
  const auto error = [](const std::string& text) {
    const LeaseParse parsed = parse_lease(text, "x.lease");
    EXPECT_FALSE(parsed.lease) << text;
    return parsed.error;
  };
  EXPECT_EQ(error(""), "'job' is missing");
  EXPECT_EQ(error("job=J\ncreated=1\n"), "'expires' is missing");
  EXPECT_EQ(error("job=J\nexpires=1\n"), "'created' is missing");
  EXPECT_EQ(error("job=\ncreated=1\nexpires=2\n"), "'job' is empty");
  EXPECT_EQ(error("job=J\ncreated=soon\nexpires=2\n"), "'created' is not a number: 'soon'");
  EXPECT_EQ(error("job=J\ncreated=1\nexpires=2x\n"), "'expires' is not a number: '2x'");
  EXPECT_EQ(error("job=J\njob=K\ncreated=1\nexpires=2\n"), "'job' appears twice");
  EXPECT_EQ(error("job=J\ngarbage\n"), "line 2 is not key=value");
  // A half-written file (cut mid-number) must not parse as a shorter number.
  EXPECT_EQ(error("job=J\ncreated=1\nexpires=\n"), "'expires' is not a number: ''");
}

TEST(JobName, AcceptsWhatVeeamJobsAreCalled) {
  EXPECT_EQ(job_name_problem("default"), std::nullopt);
  EXPECT_EQ(job_name_problem("Backup Job 1"), std::nullopt);
  EXPECT_EQ(job_name_problem("Sicherung Büro (täglich)"), std::nullopt);
  EXPECT_EQ(job_name_problem(std::string(128, 'x')), std::nullopt);
}

TEST(JobName, RefusesNamesThatWouldBreakFilesOrCommandLines) {
  EXPECT_EQ(job_name_problem(""), "the job name is empty");
  EXPECT_EQ(job_name_problem(std::string(129, 'x')), "the job name is longer than 128 bytes");
  EXPECT_EQ(job_name_problem("a\nexpires=99999999999"), "the job name contains a control character");
  EXPECT_EQ(job_name_problem("tab\there"), "the job name contains a control character");
  EXPECT_TRUE(job_name_problem("--list").has_value());
  EXPECT_TRUE(job_name_problem(" padded").has_value());
  EXPECT_TRUE(job_name_problem("padded ").has_value());
}

TEST(LeaseFileName, SortsByCreationAndShowsAPlainJobName) {
  const Lease l = make_lease("Daily backup/ä", "repo1", 4242, 1795395600, 24);
  const std::string name = lease_file_name(l, "0badf00d");
  EXPECT_EQ(name, "1795395600-Daily_backup___-4242-0badf00d.lease");
  EXPECT_TRUE(is_lease_file_name(name));
}

TEST(LeaseFileName, TellsLeasesFromOtherFiles) {
  EXPECT_TRUE(is_lease_file_name("1-J-2-3.lease"));
  EXPECT_FALSE(is_lease_file_name(".1-J-2-3.lease.tmp"));
  EXPECT_FALSE(is_lease_file_name(".1-J-2-3.lease"));
  EXPECT_FALSE(is_lease_file_name(".lease"));
  EXPECT_FALSE(is_lease_file_name("copier.active"));
  EXPECT_FALSE(is_lease_file_name("coordination.lock"));
  EXPECT_FALSE(is_lease_file_name("x.lease~"));
}

TEST(LeaseExpiry, ExpiresAtTheExpirySecond) {
  const Lease l = make_lease("J", "h", 1, kNow, 1);
  EXPECT_EQ(l.expires_at, kNow + 3600);
  EXPECT_FALSE(is_expired(l, kNow));
  EXPECT_FALSE(is_expired(l, kNow + 3599));
  EXPECT_TRUE(is_expired(l, kNow + 3600));
}

TEST(LeaseExpiry, SplitsLiveFromExpired) {
  std::vector<Lease> leases{lease_of("old", kNow - 25 * 3600), lease_of("new", kNow - 3600),
                            lease_of("edge", kNow - 24 * 3600)};
  const LeasesByExpiry split = split_by_expiry(leases, kNow);
  ASSERT_EQ(split.live.size(), 1u);
  EXPECT_EQ(split.live[0].job, "new");
  ASSERT_EQ(split.expired.size(), 2u);
  EXPECT_EQ(split.expired[0].job, "old");
  EXPECT_EQ(split.expired[1].job, "edge");
}

TEST(LeaseCount, CountsOverlappingRunsPerJob) {
  const std::vector<Lease> leases{lease_of("A", 1), lease_of("B", 2), lease_of("A", 3)};
  const auto counts = count_by_job(leases);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at("A"), 2);
  EXPECT_EQ(counts.at("B"), 1);
  EXPECT_TRUE(count_by_job({}).empty());
  EXPECT_EQ(summarize_jobs(leases), "'A' (2 leases), 'B'");
}

TEST(LeaseToRemove, TakesTheOldestLeaseOfTheJob) {
  const std::vector<Lease> leases{lease_of("A", 30), lease_of("B", 5), lease_of("A", 10), lease_of("A", 20)};
  const auto chosen = lease_to_remove(leases, "A");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->created_at, 10);
  EXPECT_EQ(chosen->job, "A");
}

TEST(LeaseToRemove, BreaksTiesByFileNameAndIgnoresOtherJobs) {
  const std::vector<Lease> leases{lease_of("A", 10, "10-A-2-b.lease"), lease_of("A", 10, "10-A-1-a.lease"),
                                  lease_of("AB", 1)};
  ASSERT_TRUE(lease_to_remove(leases, "A"));
  EXPECT_EQ(lease_to_remove(leases, "A")->file, "10-A-1-a.lease");
  EXPECT_FALSE(lease_to_remove(leases, "B"));
  EXPECT_FALSE(lease_to_remove(leases, "a"));  // job names are compared exactly
  EXPECT_FALSE(lease_to_remove({}, "A"));
}

TEST(LeaseDescription, SaysWhoWhenAndHowLongItLasts) {
  const Lease l = make_lease("Daily", "repo1", 4242, 1795395600, 24);
  EXPECT_EQ(describe_lease(l, 1795395600 + 60),
            "job 'Daily' from repo1 (pid 4242), created 2026-11-23T01:00:00Z, expires "
            "2026-11-24T01:00:00Z (in 23 h 59 min)");
  EXPECT_EQ(describe_lease(l, 1795395600 + 25 * 3600),
            "job 'Daily' from repo1 (pid 4242), created 2026-11-23T01:00:00Z, expired "
            "2026-11-24T01:00:00Z (1 h 00 min ago)");
}

// The fake keeps the gate's rules, or job tests would pass against a gate that cannot exist.
TEST(FakeVeeamGate, RefusesWhileLeasedAndMakesAppearanceSticky) {
  test::FakeVeeamGate gate;
  gate.leases_.push_back(test::FakeVeeamGate::lease("Daily"));
  gate.expired_.push_back(test::FakeVeeamGate::lease("Old", 1));
  GateResult r = gate.try_enter();
  EXPECT_FALSE(r.entered);
  EXPECT_EQ(r.live.size(), 1u);
  EXPECT_EQ(r.expired.size(), 1u);
  EXPECT_TRUE(gate.try_enter().expired.empty());  // handed out once

  gate.leases_.clear();
  ASSERT_TRUE(gate.try_enter().entered);
  EXPECT_FALSE(gate.lease_appeared());
  gate.appear(test::FakeVeeamGate::lease("Weekly"));
  EXPECT_TRUE(gate.lease_appeared());
  EXPECT_TRUE(gate.lease_appeared());
  gate.leave();
  EXPECT_FALSE(gate.try_enter().entered);
  EXPECT_EQ(gate.calls_,
            (std::vector<std::string>{"try_enter", "try_enter", "try_enter", "leave", "try_enter"}));
}

TEST(FakeVeeamGate, LetsTimePassWhileWaiting) {
  test::FakeClock clock;
  test::FakeVeeamGate gate;
  gate.clock_ = &clock;
  gate.leases_.push_back(test::FakeVeeamGate::lease("Daily"));
  gate.clear_after_waits_ = 2;
  gate.wait_for_change(std::chrono::seconds(1));
  EXPECT_FALSE(gate.try_enter().entered);
  gate.wait_for_change(std::chrono::seconds(1));
  EXPECT_TRUE(gate.try_enter().entered);
  EXPECT_EQ(clock.monotonic(), std::chrono::seconds(2));
  gate.appear_on_check_ = 2;
  EXPECT_FALSE(gate.lease_appeared());
  EXPECT_TRUE(gate.lease_appeared());
}

}  // namespace
}  // namespace ubc
