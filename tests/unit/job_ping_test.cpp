// SPDX-License-Identifier: MIT
// ping-url: URL/start once a whitelisted disk's copy begins, then URL or URL/fail at its
// end; nothing for a run that was never a copy. A failed ping is a warning, nothing more.
#include "core/monitoring_ping.h"
#include "job_test_support.h"

namespace ubc::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kPing = "https://hc-ping.com/5f0c";

TEST(MonitoringPingTest, UrlsFollowHealthchecksConvention) {
  EXPECT_EQ(start_ping_url("https://hc-ping.com/5f0c/"), "https://hc-ping.com/5f0c/start");
  EXPECT_EQ(end_ping_url(kPing, Outcome::success), kPing);
  EXPECT_EQ(end_ping_url(kPing, Outcome::warning), kPing);
  for (const Outcome o : {Outcome::failed, Outcome::aborted, Outcome::gave_up})
    EXPECT_EQ(end_ping_url(kPing, o), std::string(kPing) + "/fail") << to_string(o);
  EXPECT_EQ(end_ping_url(kPing, Outcome::not_whitelisted), std::nullopt);
  EXPECT_EQ(end_ping_url(kPing, Outcome::already_running), std::nullopt);
}

TEST_F(JobTest, ACopyPingsStartThenSuccess) {
  config_.ping_url = kPing;
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_THAT(pinger_.urls_, ElementsAre(std::string(kPing) + "/start", kPing));
}

TEST_F(JobTest, AFailedCopyPingsStartThenFail) {
  config_.ping_url = kPing;
  fs_.space_[kMount] = SpaceInfo{1000, 200ULL << 30};  // far too little room
  processes_.runs_ = {dry_run(3, 1ULL << 30)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::failed) << r.reason;
  EXPECT_THAT(pinger_.urls_, ElementsAre(std::string(kPing) + "/start", std::string(kPing) + "/fail"));
}

TEST_F(JobTest, GivingUpOnTheQueuePingsFail) {
  config_.ping_url = kPing;
  config_.wait_for_queue_minutes = 1;
  slots_.copy_busy_for_ = 1000;
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::gave_up);
  EXPECT_THAT(pinger_.urls_, ElementsAre(std::string(kPing) + "/start", std::string(kPing) + "/fail"));
}

TEST_F(JobTest, RunsThatAreNoCopyOfOursPingNothing) {
  config_.ping_url = kPing;
  slots_.disk_busy_ = true;
  EXPECT_EQ(run_job().outcome, Outcome::already_running);
  slots_.disk_busy_ = false;
  devices_.devices_[0].uuid = "99999999-1111-4222-8333-444455556666";
  EXPECT_EQ(run_job().outcome, Outcome::not_whitelisted);
  EXPECT_TRUE(pinger_.urls_.empty());
}

TEST_F(JobTest, AVerifyRunPingsNothing) {
  config_.ping_url = kPing;
  (void)run_job({JobRequest::By::device, kDev, false, JobAction::verify});
  EXPECT_TRUE(pinger_.urls_.empty());
}

TEST_F(JobTest, WithoutPingUrlNothingIsPinged) {
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  EXPECT_EQ(run_job().outcome, Outcome::success);
  EXPECT_TRUE(pinger_.urls_.empty());
}

TEST_F(JobTest, AFailedPingIsAWarningButNeverChangesTheOutcome) {
  config_.ping_url = kPing;
  pinger_.error_ = "Could not resolve host: hc-ping.com (3 tries)";
  processes_.runs_ = {dry_run(3, 1000), copy_run(3000, 3)};
  const JobReport r = run_job();
  EXPECT_EQ(r.outcome, Outcome::success) << r.reason;
  EXPECT_EQ(exit_code(r), 0);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0], HasSubstr("The monitoring ping to '" + std::string(kPing) + "/start' failed"));
  EXPECT_THAT(r.warnings[1], HasSubstr("Could not resolve host"));
  EXPECT_THAT(mailer_.sent_.back().body, HasSubstr("monitoring ping"));
}

}  // namespace
}  // namespace ubc::test
