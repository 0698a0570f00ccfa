// SPDX-License-Identifier: MIT
// The mail policy over a fake transport and a fake outbox: order, retries, time limits,
// stop requests, refusals counted per run, and what happens when nothing can be kept.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/mime.h"
#include "core/outbox_mailer.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mail.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = TransmitResult::Kind;

class OutboxMailerTest : public ::testing::Test {
 protected:
  OutboxMailerTest() {
    config_.mail_server = "mail.example.com";
    config_.from_mail = "copier@example.com";
  }

  // A mailer lives for one run (one process).
  OutboxMailer run() { return OutboxMailer(config_, transport_, outbox_, clock_, &stop_); }

  static Email mail(const std::string& subject) {
    Email m;
    m.from = "copier@example.com";
    m.to = {"ops@example.com", "Owner@example.com"};
    m.cc = {"owner@example.com", "boss@example.com"};
    m.subject = subject;
    m.body = "body of " + subject + "\n";
    m.attachment_name = "run.log";
    m.attachment = "log of " + subject + "\n";
    return m;
  }

  // Every attempt fails as with a server that cannot be reached.
  void server_away() {
    transport_.script_ = {temporary_failure()};
    transport_.repeat_last_ = true;
  }

  void keep(const std::string& subject, int refusals = 0) {
    const Email m = mail(subject);
    outbox_.add({{m.from, {"ops@example.com"}, render_message(m, {1800000000, "<k@test>"})}, refusals});
  }

  Config config_;
  FakeMailTransport transport_;
  FakeOutboxStore outbox_;
  FakeClock clock_;
  FakeStopSignal stop_;
};

TEST_F(OutboxMailerTest, SendsTheEnvelopeOfTheRenderedMailOnce) {
  const MailResult r = run().send(mail("new"));

  ASSERT_TRUE(r.sent) << r.error;
  ASSERT_EQ(transport_.attempts_.size(), 1u);
  const RenderedMail& sent = transport_.attempts_[0].mail;
  EXPECT_EQ(sent.from, "copier@example.com");
  EXPECT_EQ(sent.recipients, (std::vector<std::string>{"ops@example.com", "Owner@example.com", "boss@example.com"}));
  EXPECT_THAT(sent.message, HasSubstr("Message-ID: <1@test>\r\n"));
  EXPECT_TRUE(outbox_.entries_.empty());
}

TEST_F(OutboxMailerTest, KeptMailsGoFirstOldestFirst) {
  keep("first");
  keep("second");

  const MailResult r = run().send(mail("third"));

  ASSERT_TRUE(r.sent) << r.error;
  EXPECT_EQ(r.outbox_sent, 2);
  EXPECT_THAT(transport_.subjects(), ElementsAre("first", "second", "third"));
  EXPECT_TRUE(outbox_.entries_.empty());
  EXPECT_FALSE(outbox_.held_) << "the outbox lock is given back";
}

TEST_F(OutboxMailerTest, TemporaryFailuresAreRetriedAfterTheBackOffsThenKept) {
  server_away();

  const MailResult r = run().send(mail("new"));

  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("Couldn't connect"));
  EXPECT_EQ(transport_.attempts_.size(), 3u);
  EXPECT_EQ(clock_.sleeps_, 2);
  EXPECT_EQ(clock_.elapsed_, 7s) << "2 s, then 5 s";
  ASSERT_EQ(outbox_.entries_.size(), 1u);
  EXPECT_EQ(outbox_.entries_.begin()->second.refusals, 0);
  EXPECT_TRUE(r.unkept.empty());
}

TEST_F(OutboxMailerTest, AKeptMailTheServerCannotTakeNowKeepsTheNewOneBehindIt) {
  keep("old");
  server_away();

  const MailResult r = run().send(mail("new"));

  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(transport_.subjects(), ElementsAre("old", "old", "old")) << "the new one is not tried";
  ASSERT_EQ(outbox_.entries_.size(), 2u);
  EXPECT_THAT(outbox_.entries_.rbegin()->second.mail.message, HasSubstr("Subject: new\r\n"));
}

TEST_F(OutboxMailerTest, EverySendEndsWithinItsTotalTimeLimit) {
  // A server that accepts and never answers: every attempt runs to its time limit.
  transport_.hook_ = [this](const RenderedMail&, std::chrono::milliseconds limit, const std::function<bool()>&) {
    clock_.advance(limit);
    return TransmitResult{Kind::temporary, "Operation timed out", {}, {}};
  };
  keep("old");

  const MailResult r = run().send(mail("new"));

  EXPECT_TRUE(r.kept_in_outbox);
  ASSERT_EQ(transport_.attempts_.size(), 2u);
  EXPECT_EQ(transport_.attempts_[0].time_limit, 30s);
  EXPECT_EQ(transport_.attempts_[1].time_limit, 28s) << "what is left of the 60 s after the first try and 2 s";
  EXPECT_EQ(clock_.elapsed_, 60s);
}

TEST_F(OutboxMailerTest, NoTimeLeftForTheNewMailKeepsItUntried) {
  transport_.hook_ = [this](const RenderedMail& m, std::chrono::milliseconds limit, const std::function<bool()>&) {
    clock_.advance(limit);  // the kept mail takes all the time there is, then goes out
    (void)m;
    return TransmitResult{Kind::delivered, {}, "250 OK", {}};
  };
  MailPolicy policy;
  policy.attempt_limit = 60s;
  keep("old");
  OutboxMailer mailer(config_, transport_, outbox_, clock_, &stop_, policy);

  const MailResult r = mailer.send(mail("new"));

  EXPECT_EQ(r.outbox_sent, 1);
  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("time limit for mail of 60 s"));
  EXPECT_THAT(transport_.subjects(), ElementsAre("old"));
}

TEST_F(OutboxMailerTest, AStopDuringAnAttemptEndsTheSendAtOnceAndKeepsTheMail) {
  transport_.hook_ = [this](const RenderedMail&, std::chrono::milliseconds, const std::function<bool()>& give_up) {
    stop_.requested_ = true;  // SIGTERM while the server keeps silent
    EXPECT_TRUE(give_up());
    return TransmitResult{Kind::stopped, "Callback aborted", {}, {}};
  };

  const MailResult r = run().send(mail("start"));

  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("stopped (SIGTERM)"));
  EXPECT_EQ(transport_.attempts_.size(), 1u);
  EXPECT_EQ(clock_.sleeps_, 0);
  EXPECT_EQ(outbox_.entries_.size(), 1u);
}

TEST_F(OutboxMailerTest, AStopDuringTheBackOffEndsTheSend) {
  server_away();
  clock_.on_advance_ = [this](std::chrono::milliseconds) { stop_.requested_ = true; };

  const MailResult r = run().send(mail("start"));

  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("SIGTERM"));
  EXPECT_EQ(transport_.attempts_.size(), 1u) << "no attempt after the stop";
}

TEST_F(OutboxMailerTest, AfterAStopAMailGetsOneShortAttemptThatTheStopDoesNotAbort) {
  stop_.requested_ = true;  // the end mail of a job stopped by SIGTERM
  bool gave_up = true;
  transport_.hook_ = [&](const RenderedMail&, std::chrono::milliseconds, const std::function<bool()>& give_up) {
    gave_up = give_up();
    return TransmitResult{Kind::delivered, {}, "250 OK", {}};
  };

  const MailResult r = run().send(mail("end"));

  ASSERT_TRUE(r.sent) << r.error;
  EXPECT_FALSE(gave_up);
  EXPECT_EQ(transport_.attempts_.at(0).time_limit, 10s);

  transport_.hook_ = nullptr;
  server_away();
  const MailResult down = run().send(mail("end again"));
  EXPECT_TRUE(down.kept_in_outbox);
  EXPECT_EQ(transport_.attempts_.size(), 2u) << "no retries once stopping";
}

TEST_F(OutboxMailerTest, ARefusedMailIsTriedInThreeRunsThenMovedAsideWithAWarning) {
  transport_.script_ = {refusal()};
  const MailResult first = run().send(mail("refused"));
  EXPECT_TRUE(first.kept_in_outbox);
  EXPECT_THAT(first.error, HasSubstr("554"));
  EXPECT_EQ(clock_.sleeps_, 0) << "a refusal is not retried at once";
  ASSERT_EQ(outbox_.entries_.size(), 1u);
  EXPECT_EQ(outbox_.entries_.begin()->second.refusals, 1);

  transport_.script_ = {refusal()};
  const MailResult second = run().send(mail("accepted"));
  EXPECT_TRUE(second.sent) << second.error;
  EXPECT_TRUE(second.warnings.empty());
  ASSERT_EQ(outbox_.entries_.size(), 1u);
  EXPECT_EQ(outbox_.entries_.begin()->second.refusals, 2);

  transport_.script_ = {refusal()};
  OutboxMailer third = run();
  const KeptMailDelivery delivered = third.deliver_kept();
  EXPECT_EQ(delivered.sent, 0);
  EXPECT_TRUE(outbox_.entries_.empty());
  ASSERT_EQ(outbox_.failed_.size(), 1u);
  EXPECT_THAT(outbox_.failed_.begin()->second.mail.message, HasSubstr("Subject: refused\r\n"));
  EXPECT_THAT(delivered.warnings,
              ElementsAre("1 kept mail was refused permanently by the server and moved to "
                          "'/var/lib/ubc/outbox/failed': 554 5.7.0 message refused"));
  EXPECT_TRUE(third.deliver_kept().warnings.empty()) << "each warning is handed out once";
}

TEST_F(OutboxMailerTest, ARefusedMailIsTriedOnlyOncePerRun) {
  keep("refused", 1);
  transport_.script_ = {refusal()};
  OutboxMailer mailer = run();

  (void)mailer.send(mail("start"));
  (void)mailer.deliver_kept();
  (void)mailer.send(mail("end"));

  EXPECT_THAT(transport_.subjects(), ElementsAre("refused", "start", "end"));
  EXPECT_EQ(outbox_.entries_.begin()->second.refusals, 2);
}

TEST_F(OutboxMailerTest, WarningsOfTheStartMailReachTheReportThroughDeliverKept) {
  keep("refused twice", 2);
  transport_.script_ = {refusal()};
  OutboxMailer mailer = run();

  const MailResult start = mailer.send(mail("start"));

  ASSERT_TRUE(start.sent) << start.error;
  ASSERT_EQ(start.warnings.size(), 1u);
  EXPECT_THAT(start.warnings[0], HasSubstr("1 kept mail was refused permanently"));
  EXPECT_EQ(mailer.deliver_kept().warnings, start.warnings);
}

TEST_F(OutboxMailerTest, TheSendAfterDeliverKeptDoesNotGoThroughTheKeptMailsAgain) {
  keep("old");
  server_away();
  OutboxMailer mailer = run();

  (void)mailer.deliver_kept();
  const std::size_t tried = transport_.attempts_.size();
  const MailResult end = mailer.send(mail("end"));

  EXPECT_EQ(tried, 3u);
  EXPECT_EQ(transport_.attempts_.size(), tried) << "the server was just found away";
  EXPECT_TRUE(end.kept_in_outbox);
  EXPECT_THAT(end.error, HasSubstr("Couldn't connect"));
  ASSERT_EQ(outbox_.entries_.size(), 2u);
  EXPECT_THAT(outbox_.entries_.rbegin()->second.mail.message, HasSubstr("Subject: end\r\n"));
}

TEST_F(OutboxMailerTest, AFailureEveryMailWouldShareIsNotCountedAgainstTheKeptOnes) {
  keep("old", 2);
  transport_.script_ = {TransmitResult{Kind::failed, "login denied; the server said '535 5.7.8 bad credentials'",
                                       "535 5.7.8 bad credentials", {}}};

  const MailResult r = run().send(mail("new"));

  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("535"));
  EXPECT_EQ(transport_.attempts_.size(), 1u);
  EXPECT_EQ(outbox_.entries_.begin()->second.refusals, 2);
  EXPECT_TRUE(outbox_.failed_.empty());
}

TEST_F(OutboxMailerTest, AMailThatCanBeNeitherSentNorKeptIsReturnedWhole) {
  outbox_.read_only_ = true;
  server_away();

  const MailResult r = run().send(mail("precious"));

  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("could not be kept for later either"));
  EXPECT_THAT(r.error, HasSubstr("Read-only file system"));
  EXPECT_EQ(r.unkept,
            "From: copier@example.com\nTo: ops@example.com, Owner@example.com\n"
            "Cc: owner@example.com, boss@example.com\nSubject: precious\n\nbody of precious\n"
            "\n--- run.log ---\nlog of precious\n");
}

TEST_F(OutboxMailerTest, AnEntryThatIsNoKeptMailIsSetAside) {
  outbox_.unreadable_ = {"000000.mail"};

  const MailResult r = run().send(mail("new"));

  ASSERT_TRUE(r.sent) << r.error;
  EXPECT_THAT(outbox_.aside_, ElementsAre("000000.mail"));
}

TEST_F(OutboxMailerTest, KeptMailsWaitWhileAnotherProcessSendsThem) {
  keep("old");
  outbox_.held_elsewhere_ = true;

  const MailResult r = run().send(mail("new"));

  ASSERT_TRUE(r.sent) << r.error;
  EXPECT_THAT(transport_.subjects(), ElementsAre("new"));
  EXPECT_EQ(outbox_.entries_.size(), 1u);
}

TEST_F(OutboxMailerTest, WithoutAServerNothingIsTriedOrKept) {
  config_.mail_server.clear();

  const MailResult r = run().send(mail("nowhere"));

  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("[Mail] server"));
  EXPECT_TRUE(transport_.attempts_.empty());
  EXPECT_TRUE(outbox_.entries_.empty());
}

}  // namespace
}  // namespace ubc::test
