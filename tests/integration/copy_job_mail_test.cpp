// SPDX-License-Identifier: MIT
// The copy job and its mails when the mail server misbehaves, for real: the built
// `usb-backup-copier copy` on a loop-device disk, mailing to a server on 127.0.0.1 that
// keeps silent, refuses every mail (554) or is down while the outbox cannot be written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "support/copy_fixture.h"
#include "support/mail_wiring.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

void make_some_files(const std::string& src) {
  for (int i = 0; i < 3; ++i) make_file(src + "/Jobs/f" + std::to_string(i) + ".vbk", 4096 + i, i + 1);
}

TEST(CopyJobMail, SigtermWhileTheServerKeepsSilentEndsTheJobAndKeepsTheMails) {
  CopyFixture f({.silent_smtp = true});
  make_some_files(f.source());

  auto copier = f.start_copy();
  // The first connection is the start mail's: the copier is now waiting for a greeting.
  ASSERT_TRUE(f.smtp()->wait_for_connections(1, 60s)) << copier->output_so_far();
  copier->signal(SIGTERM);
  const auto r = copier->wait(3min);  // a safety net only

  ASSERT_TRUE(r) << "the copier did not end after SIGTERM: " << copier->output_so_far();
  EXPECT_EQ(r->exit_code, 1) << r->output;
  EXPECT_THAT(r->output, HasSubstr("The start mail was not sent (given up because the job is being stopped (SIGTERM))"));
  EXPECT_THAT(r->output, HasSubstr("Stopped by SIGTERM"));
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.lock_file()));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "aborted");
  const auto kept = mail_files(f.outbox_dir());
  ASSERT_EQ(kept.size(), 2u) << r->output;
  EXPECT_THAT(read_file(kept[0]), HasSubstr("copy started"));
  EXPECT_THAT(read_file(kept[1]), HasSubstr("FAILED"));
}

TEST(CopyJobMail, MailsRefusedInThreeRunsAreMovedAsideAndTheThirdReportSaysSo) {
  CopyFixture f({.start_smtp = false});
  SmtpServer refusing({.port = f.smtp_port(), .fail_code = 554, .fail_count = -1});
  make_some_files(f.source());

  const CopierResult first = f.copy();  // start and end mail refused: kept, refused once
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(mail_files(f.outbox_dir()).size(), 2u);
  const CopierResult second = f.copy();  // up to date: no start mail; refused twice
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(mail_files(f.outbox_dir()).size(), 3u);
  const CopierResult third = f.copy();
  ASSERT_EQ(third.exit_code, 0) << third.output;

  EXPECT_EQ(mail_files(f.outbox_dir() + "/failed").size(), 2u);
  const auto left = mail_files(f.outbox_dir());
  ASSERT_EQ(left.size(), 2u) << "the second and third runs' end mails";
  const std::string warning = "2 kept mails were refused permanently by the server and moved to '" +
                              f.outbox_dir() + "/failed': 554 5.7.0 message refused";
  EXPECT_THAT(third.output, HasSubstr(warning));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[2].warnings, HasSubstr(warning));
  EXPECT_FALSE(refusing.wait_for_messages(1, 100ms));
}

TEST(CopyJobMail, AMailThatCanBeNeitherSentNorKeptIsLoggedWhole) {
  CopyFixture f;
  make_some_files(f.source());
  f.stop_smtp();
  write_file(f.outbox_dir(), "a file where the outbox directory should be");

  const CopierResult r = f.copy();

  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(field(*f.disk_state(), "state"), "complete");
  EXPECT_THAT(r.output, HasSubstr("could not be kept for later either"));
  // Each line of the mail is a log line of its own: line breaks in log messages are escaped.
  EXPECT_THAT(r.output, HasSubstr("The start mail that could not be kept:\n"));
  EXPECT_THAT(r.output, HasSubstr("error:   From: usb-backup-copier@example.com\n"));
  EXPECT_THAT(r.output, HasSubstr("Another mail follows when the copy ends."));
  EXPECT_THAT(r.output, HasSubstr("could not be kept; here it is:\n"));
  EXPECT_THAT(r.output, HasSubstr("--- usb-backup-copier-" + f.uuid() + ".log ---\n"));
  const std::string log = read_file(f.log_file());
  EXPECT_THAT(log, HasSubstr("Another mail follows when the copy ends."));
}

}  // namespace
}  // namespace ubc::test
