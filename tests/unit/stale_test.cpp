// SPDX-License-Identifier: MIT
#include "core/stale.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "fakes/fake_file_system.h"
#include "fakes/fake_recorders.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z

HistoryRow good(const std::string& uuid, std::int64_t finished_at, const std::string& label = "") {
  HistoryRow r;
  r.uuid = uuid;
  r.label = label;
  r.started_at = finished_at - 3600;
  r.finished_at = finished_at;
  r.outcome = "success";
  return r;
}

class StaleTest : public ::testing::Test {
 protected:
  StaleTest() {
    config_.path = "/etc/usb-backup-copier/config.ini";
    config_.stale_after_days = 8;
    config_.state_directory = "/var/lib/usb-backup-copier";
    config_.sysop_mails = {"sysop@example.com"};
    config_.from_mail = "copier@example.com";
    config_.disks = {{"aaaa-0001", {"alice@example.com"}, 3}, {"bbbb-0002", {"bob@example.com"}, 3},
                     {"cccc-0003", {}, 3}};
  }
  StaleCheck check(std::int64_t now) { return check_stale(config_, "backup01", history_, fs_, mailer_, now); }
  std::string alerts_file() const { return config_.state_directory + "/" + kStaleAlertsFile; }

  Config config_;
  FakeHistory history_;
  FakeFileSystem fs_;
  FakeMailer mailer_;
};

TEST(IsStale, TheLimitIsExactlyThatManyDaysInUnixSeconds) {
  EXPECT_FALSE(is_stale(kNow - 8 * kDay, 8, kNow)) << "exactly 8 days: not yet";
  EXPECT_TRUE(is_stale(kNow - 8 * kDay - 1, 8, kNow));
  EXPECT_TRUE(is_stale(std::nullopt, 8, kNow)) << "never copied";
  EXPECT_FALSE(is_stale(kNow + 3 * kDay, 8, kNow)) << "a clock set back is no reason to alarm";
}

TEST(IsStale, DoesNotDependOnTheTimeZone) {
  // Unix seconds on both sides: a daylight-saving change or TZ never moves the limit.
  const char* before = std::getenv("TZ");
  const std::string saved = before ? before : "";
  for (const char* tz : {"UTC", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati"}) {
    ::setenv("TZ", tz, 1);
    EXPECT_FALSE(is_stale(kNow - 8 * kDay, 8, kNow)) << tz;
    EXPECT_TRUE(is_stale(kNow - 8 * kDay - 1, 8, kNow)) << tz;
  }
  if (before) ::setenv("TZ", saved.c_str(), 1); else ::unsetenv("TZ");
}

TEST_F(StaleTest, ListsStaleAndNeverCopiedDisksInConfigOrder) {
  const auto stale = stale_disks(config_, {good("AAAA-0001", kNow - 9 * kDay, "OFFSITE1"), good("bbbb-0002", kNow - kDay)},
                                 kNow);
  ASSERT_EQ(stale.size(), 2u);
  EXPECT_EQ(stale[0].uuid, "aaaa-0001") << "UUIDs compare without case";
  EXPECT_EQ(stale[0].label, "OFFSITE1");
  EXPECT_EQ(stale[0].last_good_at, kNow - 9 * kDay);
  EXPECT_EQ(stale[1].uuid, "cccc-0003");
  EXPECT_FALSE(stale[1].last_good_at);
}

TEST_F(StaleTest, TheNewestGoodCopyCounts) {
  const auto stale = stale_disks(config_, {good("aaaa-0001", kNow - 30 * kDay), good("aaaa-0001", kNow - kDay),
                                           good("bbbb-0002", kNow), good("cccc-0003", kNow)},
                                 kNow);
  EXPECT_TRUE(stale.empty());
}

TEST_F(StaleTest, MailsOnceAboutEachStaleDiskAndNotAgainTheSameDay) {
  history_.success_rows_ = {good("aaaa-0001", kNow - 10 * kDay, "OFFSITE1"), good("bbbb-0002", kNow - kDay),
                            good("cccc-0003", kNow - kDay)};
  const StaleCheck first = check(kNow);
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  ASSERT_EQ(first.alerted.size(), 1u);
  const Email& mail = mailer_.sent_[0];
  EXPECT_THAT(mail.subject, HasSubstr("disk aaaa-0001 has had no good copy for 8 days"));
  EXPECT_THAT(mail.body, HasSubstr("aaaa-0001 ('OFFSITE1'): last good copy 2027-01-05T08:00:00Z, 10 d 0 h ago"));
  EXPECT_THAT(mail.to, ::testing::ElementsAre("sysop@example.com", "alice@example.com"));

  check(kNow + 6 * 3600);  // a second run the same day
  EXPECT_EQ(mailer_.sent_.size(), 1u);
  check(kNow + kDay);  // the next day's timer
  EXPECT_EQ(mailer_.sent_.size(), 2u);
}

TEST_F(StaleTest, OneMailListsEveryDueDisk) {
  const StaleCheck r = check(kNow);  // no history: all three never copied
  ASSERT_EQ(mailer_.sent_.size(), 1u);
  EXPECT_EQ(r.alerted.size(), 3u);
  EXPECT_THAT(mailer_.sent_[0].subject, HasSubstr("3 disks have had no good copy"));
  EXPECT_THAT(mailer_.sent_[0].body, HasSubstr("cccc-0003: no good copy recorded"));
  EXPECT_THAT(mailer_.sent_[0].to,
              ::testing::ElementsAre("sysop@example.com", "alice@example.com", "bob@example.com"));
}

TEST_F(StaleTest, NoStaleDiskNoMail) {
  history_.success_rows_ = {good("aaaa-0001", kNow), good("bbbb-0002", kNow), good("cccc-0003", kNow)};
  const StaleCheck r = check(kNow);
  EXPECT_TRUE(r.stale.empty());
  EXPECT_FALSE(r.mail);
  EXPECT_TRUE(mailer_.sent_.empty());
}

TEST_F(StaleTest, AMailNeitherSentNorKeptIsTriedAgainNextRun) {
  mailer_.fail_ = mailer_.cannot_keep_ = true;
  check(kNow);
  EXPECT_FALSE(fs_.files_.count(alerts_file())) << "nothing recorded";
  mailer_.fail_ = mailer_.cannot_keep_ = false;
  check(kNow + 60);
  EXPECT_EQ(mailer_.sent_.size(), 2u);
}

TEST_F(StaleTest, AKeptMailCountsAsAlerted) {
  mailer_.fail_ = true;  // kept in the outbox, sent with the next mails
  check(kNow);
  check(kNow + 60);
  EXPECT_EQ(mailer_.sent_.size(), 1u);
}

TEST_F(StaleTest, TheRecordForgetsDisksNoLongerWhitelistedAndSurvivesGarbage) {
  fs_.files_[alerts_file()] = "gone-9999 1799999000\nnot a line\naaaa-0001 12x\n\n bbbb 5\n";
  check(kNow);
  const StaleAlerts alerts = parse_stale_alerts(fs_.files_.at(alerts_file()));
  EXPECT_EQ(alerts.size(), 3u);
  EXPECT_FALSE(alerts.count("gone-9999"));
  EXPECT_EQ(alerts.at("aaaa-0001"), kNow);
}

TEST(StaleAlerts, ALastAlertInTheFutureDoesNotSilenceADisk) {
  const std::vector<StaleDisk> stale{{"aaaa-0001", "", std::nullopt, {}}};
  EXPECT_EQ(alerts_due(stale, {{"aaaa-0001", kNow + 5 * kDay}}, kNow).size(), 1u);
  EXPECT_EQ(alerts_due(stale, {{"aaaa-0001", kNow - 19 * 3600}}, kNow).size(), 0u);
  EXPECT_EQ(alerts_due(stale, {{"aaaa-0001", kNow - kStaleRealertSeconds}}, kNow).size(), 1u);
}

TEST(StaleAlerts, RoundTrip) {
  const StaleAlerts a{{"aaaa-0001", 1}, {"bbbb-0002", kNow}};
  EXPECT_EQ(parse_stale_alerts(render_stale_alerts(a)), a);
}

}  // namespace
}  // namespace ubc::test
