// SPDX-License-Identifier: MIT
// What the mailer does when the mail server misbehaves, for real: a server that accepts
// the connection and never answers (time limit, SIGTERM), one that refuses every mail
// for good (554), and an outbox that cannot be written.
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "core/mail_compose.h"
#include "support/loop_disk.h"
#include "support/mail_wiring.h"
#include "support/smtp_server.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class MailLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("ubc-mail-limits"); }
  void TearDown() override { remove_tree(dir_); }

  Email mail(const std::string& subject) const {
    Email m = address_mail(mail_config(dir_, 0, MailSecurity::none), {});
    m.subject = subject;
    m.body = "body of " + subject + "\n";
    m.attachment_name = "run.log";
    m.attachment = "the run's log\n";
    return m;
  }

  std::string outbox() const { return dir_ + "/outbox"; }

  std::string dir_;
  BackOffRecordingClock clock_;
};

// Runs send() on another thread; if it does not end by the safety deadline the server is
// stopped (its connections closed) so that the test ends either way.
MailResult send_watched(WiredMailer& mailer, const Email& mail, SmtpServer& server,
                        const std::function<void()>& meanwhile) {
  auto sending = std::async(std::launch::async, [&] { return mailer.send(mail); });
  meanwhile();
  if (sending.wait_for(120s) != std::future_status::ready) {
    server.stop();
    ADD_FAILURE() << "send() did not end while the server kept silent";
  }
  return sending.get();
}

TEST_F(MailLimitsTest, ASilentServerIsGivenUpOnAtTheTimeLimitAndTheMailKept) {
  SmtpServer server({.silent = true});
  MailPolicy policy;
  policy.call_limit = 3s;  // the only thing that can end this send before the deadline
  policy.attempt_limit = 3s;
  WiredMailer mailer(mail_config(dir_, server.port(), MailSecurity::none), clock_, "", nullptr, policy);

  const MailResult r = send_watched(mailer, mail("into the void"), server, [] {});

  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("timed out")) << r.error;
  EXPECT_TRUE(server.wait_for_connections(1, 1s));
  EXPECT_EQ(mail_files(outbox()).size(), 1u);
}

TEST_F(MailLimitsTest, SigtermWhileTheServerKeepsSilentEndsTheSendAndKeepsTheMail) {
  SmtpServer server({.silent = true});
  SignalStop stop;
  SystemClock clock(&stop);
  MailPolicy policy;
  policy.call_limit = 1h;  // only the stop can end this send before the deadline
  policy.attempt_limit = 1h;
  WiredMailer mailer(mail_config(dir_, server.port(), MailSecurity::none), clock, "", &stop, policy);

  const MailResult r = send_watched(mailer, mail("start"), server, [&] {
    ASSERT_TRUE(server.wait_for_connections(1, 60s));
    ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  });

  EXPECT_TRUE(stop.stop_requested());
  EXPECT_FALSE(r.sent);
  EXPECT_TRUE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("stopped (SIGTERM)")) << r.error;
  const auto kept = mail_files(outbox());
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_THAT(read_file(kept[0]), HasSubstr("Subject: start\r\n"));
}

TEST_F(MailLimitsTest, AMailRefusedForGoodIsTriedInThreeRunsThenMovedToFailed) {
  SmtpServer server({.fail_code = 554, .fail_count = -1});
  const Config config = mail_config(dir_, server.port(), MailSecurity::none);
  {
    WiredMailer first_run(config, clock_);
    const MailResult r = first_run.send(mail("refused"));
    EXPECT_TRUE(r.kept_in_outbox);
    EXPECT_THAT(r.error, HasSubstr("554"));
  }
  {
    WiredMailer second_run(config, clock_);
    const KeptMailDelivery d = second_run.deliver_kept();
    EXPECT_EQ(d.sent, 0);
    EXPECT_TRUE(d.warnings.empty());
    ASSERT_EQ(mail_files(outbox()).size(), 1u);
    const auto kept = parse_kept_mail(read_file(mail_files(outbox())[0]));
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->refusals, 2);
  }
  WiredMailer third_run(config, clock_);
  const KeptMailDelivery d = third_run.deliver_kept();

  EXPECT_TRUE(clock_.sleeps_.empty()) << "a refusal is never retried at once";
  EXPECT_TRUE(mail_files(outbox()).empty());
  const auto failed = mail_files(outbox() + "/failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(read_file(failed[0]), HasSubstr("Subject: refused\r\n"));
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], "1 kept mail was refused permanently by the server and moved to '" + outbox() +
                               "/failed': 554 5.7.0 message refused");
  EXPECT_FALSE(server.wait_for_messages(1, 300ms));
}

TEST_F(MailLimitsTest, AMailThatCannotBeKeptComesBackWholeForTheLog) {
  write_file(outbox(), "a file where the outbox directory should be");
  WiredMailer mailer(mail_config(dir_, free_port(), MailSecurity::none), clock_);

  const MailResult r = mailer.send(mail("precious"));

  EXPECT_FALSE(r.sent);
  EXPECT_FALSE(r.kept_in_outbox);
  EXPECT_THAT(r.error, HasSubstr("could not be kept for later either"));
  EXPECT_THAT(r.error, HasSubstr(outbox()));
  EXPECT_THAT(r.unkept, HasSubstr("Subject: precious\n"));
  EXPECT_THAT(r.unkept, HasSubstr("body of precious\n"));
  EXPECT_THAT(r.unkept, HasSubstr("--- run.log ---\nthe run's log\n"));
}

}  // namespace
}  // namespace ubc::test
