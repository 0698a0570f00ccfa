// SPDX-License-Identifier: MIT
// `usb-backup-copier check-stale` against a real history written by a real copy, and a real
// SMTP server: one mail about a disk whose last good copy is too old, none on a second run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "support/copy_fixture.h"
#include "support/smtp_server.h"

namespace ubc::test {
namespace {

using ::testing::HasSubstr;

void make_small_tree(const std::string& src) {
  make_file(src + "/Jobs/Nightly.vbk", 1u << 20, 1);
  make_file(src + "/Jobs/Nightly.vbm", 12345, 2);
}

// Moves every run of the disk `days` into the past, as if it had been copied then.
void age_history(const CopyFixture& f, int days) {
  const std::string shift = std::to_string(static_cast<std::int64_t>(days) * 86400);
  const CopierResult r = run_program({"sqlite3", f.state_dir() + "/history.db",
                                      "UPDATE runs SET started_at = started_at - " + shift +
                                          ", finished_at = finished_at - " + shift + ";"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

TEST(StaleCheck, MailsOnceAboutADiskWithAnOldCopyAndNotAgainTheSameDay) {
  CopyFixture f({.backup_lines = {"stale-after-days = 3"}});
  make_small_tree(f.source());
  const CopierResult copy = f.copy();
  ASSERT_EQ(copy.exit_code, 0) << copy.output;
  const std::size_t copy_mails = f.wait_for_mails(2).size();  // start and end mail

  const CopierResult fresh = f.copier({"check-stale"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_THAT(fresh.output, HasSubstr("had a good copy in the last 3 days"));
  EXPECT_EQ(f.mails().size(), copy_mails) << "a fresh copy is no reason to mail";

  age_history(f, 4);
  const CopierResult first = f.copier({"check-stale"});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("Stale: disk " + f.uuid()));
  const auto mails = f.wait_for_mails(copy_mails + 1);
  ASSERT_EQ(mails.size(), copy_mails + 1);
  const Json& alert = mails.back();
  EXPECT_THAT(field(alert, "subject"), HasSubstr("disk " + f.uuid() + " has had no good copy for 3 days"));
  EXPECT_THAT(field(alert, "body"), HasSubstr(f.uuid() + " ('UBC-TEST'): last good copy "));
  EXPECT_THAT(field(alert, "body"), HasSubstr("4 d 0 h ago"));

  // The mail is handed to the server before check-stale exits: nothing more can arrive.
  const CopierResult second = f.copier({"check-stale"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, HasSubstr("Already mailed about"));
  EXPECT_EQ(f.mails().size(), copy_mails + 1) << "a second run the same day mails nothing";
}

TEST(StaleCheck, ANeverCopiedDiskIsStaleAndABrokenHistoryIsAnError) {
  CopyFixture f;
  const CopierResult never = f.copier({"check-stale"});
  EXPECT_EQ(never.exit_code, 0) << never.output;
  EXPECT_THAT(never.output, HasSubstr("no good copy recorded"));
  const auto mails = f.wait_for_mails(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_THAT(field(mails[0], "body"), HasSubstr(f.uuid() + ": no good copy recorded"));

  write_file(f.state_dir() + "/history.db", "this is not a database");
  const CopierResult broken = f.copier({"check-stale"});
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_THAT(broken.output, HasSubstr("cannot check for stale disks"));
}

}  // namespace
}  // namespace ubc::test
