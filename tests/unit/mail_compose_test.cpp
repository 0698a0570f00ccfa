// SPDX-License-Identifier: MIT
#include "core/mail_compose.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "core/mime.h"

namespace ubc {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Config sample_config() {
  Config c;
  c.sysop_mails = {"ops@example.com", "admin@example.com"};
  c.from_mail = "copier@example.com";
  c.cc_mails = {"boss@example.com"};
  c.mail_server = "mail.example.com";
  return c;
}

JobReport success_report() {
  JobReport r;
  r.host = "backup01";
  r.disk = {"/dev/sdb1", "0a1b2c3d-1111-4222-a333-444455556666", "Offsite-3", "ext4"};
  r.disk_mails = {"owner@example.com"};
  r.source = "/srv/veeam";
  r.mount_point = "/mnt/usb-backup";
  r.outcome = Outcome::success;
  r.started_at = 1700000000;
  r.finished_at = 1700000000 + 3900;  // 1 h 05 min
  r.bytes_copied = 100ULL * 1024 * 1024 * 3900;  // 100 MiB/s
  r.files_copied = 1234;
  r.free_bytes_after = 800ULL * 1024 * 1024 * 1024;
  r.copy_started = true;
  r.unmounted = true;
  r.run_log = "2023-11-14 22:13:20 info: copy started\n2023-11-14 23:18:20 info: done\n";
  return r;
}

TEST(MailComposeTest, RecipientsAreSysopsThenDiskAddressesThenCcWithoutDuplicates) {
  Config c = sample_config();
  c.cc_mails = {"boss@example.com", "OPS@example.com", "Owner@Example.com", "boss@EXAMPLE.com"};
  const Email mail = address_mail(c, {"owner@example.com", "Admin@Example.com", "second@example.com"});
  EXPECT_EQ(mail.from, "copier@example.com");
  EXPECT_EQ(mail.to, (std::vector<std::string>{"ops@example.com", "admin@example.com", "owner@example.com",
                                               "second@example.com"}));
  EXPECT_EQ(mail.cc, (std::vector<std::string>{"boss@example.com"}));
}

TEST(MailComposeTest, SysopsAlwaysReceiveTheMailEvenWithoutDiskAddresses) {
  const Email mail = address_mail(sample_config(), {});
  EXPECT_EQ(mail.to, (std::vector<std::string>{"ops@example.com", "admin@example.com"}));
}

TEST(MailComposeTest, SuccessSubjectHasHostDiskLabelAndOk) {
  const Email mail = compose_end_mail(sample_config(), success_report());
  EXPECT_EQ(mail.subject, "[usb-backup-copier] backup01, disk Offsite-3: OK");
}

TEST(MailComposeTest, SubjectFallsBackToTheUuidWithoutALabel) {
  JobReport r = success_report();
  r.disk.label.clear();
  EXPECT_EQ(compose_end_mail(sample_config(), r).subject,
            "[usb-backup-copier] backup01, disk 0a1b2c3d-1111-4222-a333-444455556666: OK");
}

TEST(MailComposeTest, WarningAndFailureSubjects) {
  JobReport r = success_report();
  r.outcome = Outcome::warning;
  r.warnings = {"free space below 50 GiB"};
  EXPECT_EQ(compose_end_mail(sample_config(), r).subject, "[usb-backup-copier] backup01, disk Offsite-3: WARNING");
  r.outcome = Outcome::failed;
  r.reason = "not enough space on the disk";
  EXPECT_EQ(compose_end_mail(sample_config(), r).subject,
            "[usb-backup-copier] backup01, disk Offsite-3: FAILED: not enough space on the disk");
  r.outcome = Outcome::aborted;
  r.reason = "stopped by SIGTERM";
  EXPECT_EQ(compose_end_mail(sample_config(), r).subject,
            "[usb-backup-copier] backup01, disk Offsite-3: FAILED: stopped by SIGTERM");
}

TEST(MailComposeTest, SuccessBodyHasTheFiguresAndSaysSafeToUnplug) {
  const Email mail = compose_end_mail(sample_config(), success_report());
  const auto lines = lines_of(mail.body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "Result: OK. The copy is complete.");
  EXPECT_TRUE(contains(mail.body, "Disk: Offsite-3 (UUID 0a1b2c3d-1111-4222-a333-444455556666, /dev/sdb1)\n"));
  EXPECT_TRUE(contains(mail.body, "Copied: 381 GiB in 1234 files\n"));
  EXPECT_TRUE(contains(mail.body, "Duration: 1 h 05 min, average speed 100 MiB/s\n"));
  EXPECT_TRUE(contains(mail.body, "Free space left: 800 GiB\n"));
  EXPECT_TRUE(contains(mail.body, "Warnings: none\n"));
  EXPECT_TRUE(contains(mail.body, "safe to unplug"));
  EXPECT_LE(lines.size(), 10u);
}

TEST(MailComposeTest, SuccessBodyNeverExceedsTenLines) {
  JobReport r = success_report();
  r.outcome = Outcome::warning;
  for (int i = 0; i < 25; ++i) r.warnings.push_back("warning number " + std::to_string(i) + "\nwith a second line");
  Email mail = compose_end_mail(sample_config(), r);
  auto lines = lines_of(mail.body);
  EXPECT_EQ(lines.size(), 10u) << mail.body;
  EXPECT_TRUE(contains(mail.body, "Warnings: 25\n"));
  EXPECT_TRUE(contains(mail.body, "Warning: warning number 0 with a second line\n"));
  EXPECT_EQ(lines.back(), "... and 24 more warnings in the attached log.");
  EXPECT_TRUE(contains(mail.body, "safe to unplug"));

  r.veeam_pauses = 2;  // one line less for the warnings
  mail = compose_end_mail(sample_config(), r);
  lines = lines_of(mail.body);
  EXPECT_EQ(lines.size(), 10u) << mail.body;
  EXPECT_TRUE(contains(mail.body, "Paused 2 times to let Veeam jobs run.\n"));
  EXPECT_EQ(lines.back(), "... and 25 more warnings in the attached log.");
}

TEST(MailComposeTest, FewWarningsAreListedInFull) {
  JobReport r = success_report();
  r.outcome = Outcome::warning;
  r.warnings = {"free space below 50 GiB", "3 files vanished during the copy"};
  const auto lines = lines_of(compose_end_mail(sample_config(), r).body);
  EXPECT_LE(lines.size(), 10u);
  EXPECT_EQ(lines[0], "Result: WARNING. The copy is complete, with 2 warnings.");
  EXPECT_EQ(lines[lines.size() - 2], "Warning: free space below 50 GiB");
  EXPECT_EQ(lines.back(), "Warning: 3 files vanished during the copy");
}

TEST(MailComposeTest, UnmountFailedButSyncedSaysToUnmountByHand) {
  JobReport r = success_report();
  r.unmounted = false;
  r.synced_only = true;
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_FALSE(contains(mail.body, "safe to unplug"));
  EXPECT_TRUE(contains(mail.body, "Unmounting failed, but the data was synced to the disk: unmount it by hand "
                                  "(umount '/mnt/usb-backup') before unplugging."));
}

TEST(MailComposeTest, NothingToCopySaysTheDiskWasUpToDate) {
  JobReport r = success_report();
  r.bytes_copied = 0;
  r.files_copied = 0;
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_TRUE(contains(mail.body, "Copied: nothing; the disk was already up to date\n"));
  EXPECT_FALSE(contains(mail.body, "average speed"));
}

TEST(MailComposeTest, FailureBodyStartsWithTheReasonThenWhatToDoThenTheFigures) {
  JobReport r = success_report();
  r.outcome = Outcome::failed;
  r.reason = "not enough space on the disk: 120 GiB needed, 80 GiB free";
  r.advice = "Delete old data from the disk or use a bigger one, then plug it in again";
  r.copy_started = false;
  r.bytes_copied = 0;
  r.files_copied = 0;
  r.estimate = Estimate{120ULL << 30, 10, 500, 0, 1ULL << 30};
  const Email mail = compose_end_mail(sample_config(), r);
  const auto lines = lines_of(mail.body);
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[0], "FAILED: not enough space on the disk: 120 GiB needed, 80 GiB free");
  EXPECT_EQ(lines[2], "What to do: Delete old data from the disk or use a bigger one, then plug it in again");
  const auto at = [&](const std::string& part) { return mail.body.find(part); };
  EXPECT_LT(at("What to do"), at("Disk: "));
  EXPECT_LT(at("Disk: "), at("Planned: 120 GiB in 10 files"));
  EXPECT_LT(at("Planned"), at("Duration: "));
  EXPECT_TRUE(contains(mail.body, "Nothing was written to the disk"));
  EXPECT_TRUE(contains(mail.body, "safe to unplug"));
  EXPECT_EQ(lines.back(), "The run log is attached.");
}

TEST(MailComposeTest, FailureAfterTheCopyStartedWarnsThatTheDiskIsIncomplete) {
  JobReport r = success_report();
  r.outcome = Outcome::aborted;
  r.reason = "stopped by SIGTERM";
  r.bytes_copied = 5ULL << 30;
  r.files_copied = 7;
  r.unmounted = false;
  r.synced_only = false;
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_EQ(lines_of(mail.body)[0], "FAILED: stopped by SIGTERM");
  EXPECT_TRUE(contains(mail.body, "The copy on this disk is incomplete"));
  EXPECT_TRUE(contains(mail.body, "Copied before it stopped: 5.00 GiB in 7 files"));
  EXPECT_TRUE(contains(mail.body, "findmnt /mnt/usb-backup"));
  EXPECT_FALSE(contains(mail.body, "safe to unplug"));
}

TEST(MailComposeTest, RestorePointsAreListedWithTheirSizes) {
  JobReport r = success_report();
  r.restore_points = {{"2026-11-27T020000Z", 0, 10, 3ULL << 30, true}, {"2026-11-28T020000Z", 0, 11, 4ULL << 30, true}};
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_TRUE(contains(mail.body,
                       "Restore points (oldest first): 2026-11-27T020000Z 3.00 GiB, 2026-11-28T020000Z 4.00 GiB (latest)\n"))
      << mail.body;
  EXPECT_FALSE(contains(compose_end_mail(sample_config(), success_report()).body, "Restore points"));
}

TEST(MailComposeTest, AStoppedRestorePointSaysTheCompleteOnesAreUntouched) {
  JobReport r = success_report();
  r.outcome = Outcome::aborted;
  r.reason = "stopped by SIGTERM";
  r.restore_points = {{"2026-11-27T020000Z", 0, 10, 3ULL << 30, true}};
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_TRUE(contains(mail.body, "The new restore point is incomplete (the next run continues it); the complete "
                                  "ones on the disk are untouched.\n"))
      << mail.body;
  EXPECT_TRUE(contains(mail.body, "Restore points (oldest first): 2026-11-27T020000Z 3.00 GiB (latest)\n"));
  EXPECT_FALSE(contains(mail.body, "The copy on this disk is incomplete"));
}

TEST(MailComposeTest, TheRunLogIsAlwaysAttached) {
  for (const Outcome o : {Outcome::success, Outcome::warning, Outcome::failed, Outcome::gave_up}) {
    JobReport r = success_report();
    r.outcome = o;
    const Email mail = compose_end_mail(sample_config(), r);
    EXPECT_EQ(mail.attachment, r.run_log);
    EXPECT_EQ(mail.attachment_name, "usb-backup-copier-0a1b2c3d-1111-4222-a333-444455556666.log");
  }
  JobReport r = success_report();
  r.disk.uuid = "../../etc/passwd\r\n";
  EXPECT_EQ(compose_end_mail(sample_config(), r).attachment_name, "usb-backup-copier-etcpasswd.log");
}

TEST(MailComposeTest, HostileLabelCannotAddHeadersOrForgeBodyLines) {
  JobReport r = success_report();
  r.disk.label = "x\r\nBcc: evil@x";
  r.host = "backup01\nX-Evil: 1";
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_EQ(mail.subject.find('\r'), std::string::npos);
  EXPECT_EQ(mail.subject.find('\n'), std::string::npos);
  EXPECT_EQ(mail.subject, "[usb-backup-copier] backup01 X-Evil: 1, disk x  Bcc: evil@x: OK");
  for (const auto& line : lines_of(mail.body)) {
    EXPECT_NE(line.rfind("Bcc:", 0), 0u) << line;
  }
  const std::string rendered = render_message(mail, {1700000000, "<a@b>"});
  const std::string headers = rendered.substr(0, rendered.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(headers.find("\r\nX-Evil:"), std::string::npos);
}

TEST(MailComposeTest, LongReasonsAreCutInTheSubjectButKeptInTheBody) {
  JobReport r = success_report();
  r.outcome = Outcome::failed;
  r.reason = "rsync failed: " + std::string(300, 'e');
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_LE(mail.subject.size(), 160u);
  EXPECT_EQ(mail.subject.substr(mail.subject.size() - 3), "...");
  EXPECT_TRUE(contains(mail.body, r.reason));
}

TEST(MailComposeTest, StartMailSaysDiskAmountAndEstimatedDuration) {
  JobReport r = success_report();
  r.estimate = Estimate{360ULL * 1024 * 1024 * 1024, 1500, 20000, 12, 4ULL << 30};
  const Email assumed = compose_start_mail(sample_config(), r);
  EXPECT_EQ(assumed.subject, "[usb-backup-copier] backup01, disk Offsite-3: copy started");
  EXPECT_EQ(assumed.to, (std::vector<std::string>{"ops@example.com", "admin@example.com", "owner@example.com"}));
  EXPECT_TRUE(contains(assumed.body, "Disk: Offsite-3 (UUID"));
  EXPECT_TRUE(contains(assumed.body, "To copy: 360 GiB in 1500 files, 12 files to delete\n"));
  // 360 GiB at 100 MiB/s: 3686 s.
  EXPECT_TRUE(contains(assumed.body, "Estimated duration: about 1 h 01 min at 100 MiB/s (assumed"));
  EXPECT_TRUE(assumed.attachment_name.empty());

  const Email measured = compose_start_mail(sample_config(), r, 50.0 * 1024 * 1024);
  EXPECT_TRUE(contains(measured.body, "Estimated duration: about 2 h 03 min at 50.0 MiB/s (the speed of this disk's last copy)"));
}

TEST(MailComposeTest, StartMailWithNothingToCopy) {
  JobReport r = success_report();
  r.estimate = Estimate{};
  EXPECT_TRUE(contains(compose_start_mail(sample_config(), r).body, "To copy: nothing; the disk is already up to date"));
}

TEST(MailComposeTest, NoticeGoesToSysopsAndCcWithThePrefix) {
  Config c = sample_config();
  const Email mail = compose_notice(c, "backup01: veeam-lock failed: cannot create lease\r\nBcc: x", "body\n");
  EXPECT_EQ(mail.subject, "[usb-backup-copier] backup01: veeam-lock failed: cannot create lease  Bcc: x");
  EXPECT_EQ(mail.to, c.sysop_mails);
  EXPECT_EQ(mail.cc, c.cc_mails);
  EXPECT_EQ(mail.body, "body\n");
  EXPECT_TRUE(mail.attachment_name.empty());
  EXPECT_EQ(compose_notice(c, "[usb-backup-copier] already", "").subject, "[usb-backup-copier] already");
}


TEST(MailComposeTest, SuccessBodySaysWhatWasReadBack) {
  JobReport r = success_report();
  r.verification = VerificationReport{};
  r.verification->mode = "written";
  r.verification->files_checked = 12;
  r.verification->bytes_read = 3ULL << 30;
  r.verification->files_kept = 40;
  r.verification->seconds = 125;
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_TRUE(contains(mail.body, "Verified: 12 files (3.00 GiB) read back from the disk in 2 min, all equal; "
                                  "40 unchanged files keep their sum\n"))
      << mail.body;
  EXPECT_LE(lines_of(mail.body).size(), 10u);
}

TEST(MailComposeTest, WithoutVerificationTheMailSaysNothingWasReadBack) {
  const Email mail = compose_end_mail(sample_config(), success_report());
  EXPECT_TRUE(contains(mail.body, "Verified: nothing read back (verify = none)\n")) << mail.body;
}

TEST(MailComposeTest, AFailedCheckOfADiskSaysItWasNotChanged) {
  JobReport r = success_report();
  r.action = JobAction::verify;
  r.outcome = Outcome::failed;
  r.reason = "The disk's copy does not match its manifest: 1 file differ";
  r.verification = VerificationReport{};
  r.verification->mode = "manifest";
  r.verification->files_checked = 3;
  r.verification->mismatches = 1;
  r.verification->missing = 2;
  const Email mail = compose_end_mail(sample_config(), r);
  EXPECT_THAT(mail.subject, ::testing::HasSubstr(": verify FAILED: The disk's copy does not match"));
  EXPECT_TRUE(contains(mail.body, "1 mismatch, 2 files missing")) << mail.body;
  EXPECT_TRUE(contains(mail.body, "mounted read-only: nothing on it was changed")) << mail.body;
}

}  // namespace
}  // namespace ubc
