// SPDX-License-Identifier: MIT
// The mailer as main() wires it against a real SMTP server on 127.0.0.1 (aiosmtpd): plain,
// STARTTLS and implicit TLS with certificates made at test time, AUTH, retries and the outbox.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "core/mail_compose.h"
#include "support/loop_disk.h"
#include "support/mail_wiring.h"
#include "support/smtp_server.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;
using test::field;
using test::parse_mail;
using test::SmtpServer;
using test::SmtpServerOptions;

constexpr const char* kHost = "backup01.test";

class SmtpTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("ubc-smtp-test"); }
  void TearDown() override { test::remove_tree(dir_); }

  Config config(int port, MailSecurity security) const { return test::mail_config(dir_, port, security); }

  std::unique_ptr<test::WiredMailer> wire(const Config& c, const std::string& ca_file = "") {
    return std::make_unique<test::WiredMailer>(c, clock_, ca_file);
  }

  JobReport report(const std::string& label) const {
    JobReport r;
    r.host = "backup01";
    r.disk = {"/dev/sdb1", "0a1b2c3d-1111-4222-a333-444455556666", label, "ext4"};
    r.disk_mails = {"owner@example.com", "OPS@example.com"};
    r.mount_point = "/mnt/usb-backup";
    r.outcome = Outcome::success;
    r.started_at = 1700000000;
    r.finished_at = 1700003900;
    r.bytes_copied = 100ULL * 1024 * 1024 * 3900;
    r.files_copied = 1234;
    r.free_bytes_after = 800ULL << 30;
    r.copy_started = true;
    r.unmounted = true;
    r.run_log = "22:13:20 info: Copy of 'Sicherung-M\xC3\xBCnchen' started\n"
                "22:13:21 info: .hidden line starting with a dot\n" + std::string(300, 'L') + "\n";
    return r;
  }

  Email mail_with_subject(const std::string& subject) const {
    Email m = address_mail(config(0, MailSecurity::none), {});
    m.subject = subject;
    m.body = "body of " + subject + "\n";
    return m;
  }

  std::vector<std::string> outbox_files() const { return test::mail_files(dir_ + "/outbox"); }

  std::string dir_;
  test::BackOffRecordingClock clock_;
  std::vector<std::chrono::milliseconds>& sleeps_ = clock_.sleeps_;
};

// The real-time clock in whole seconds, as the mailer reads it (time() may lag behind it).
std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Json envelope(const std::string& json) {
  auto parsed = parse_json_object(json);
  if (!parsed) throw std::runtime_error("bad envelope JSON: " + json);
  return *parsed;
}

// libcurl is loaded on first use, and the attempt runs in a child process: the sender
// itself never maps it, so libcurl never counts in the copier's peak memory.
TEST_F(SmtpTest, TheMailGoesOutWithoutLibcurlEverLoadedInTheSender) {
  SmtpServer server;
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(mail_with_subject("sent by a child"));

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(field(parse_mail(server.message_files().at(0)), "subject"), "sent by a child");
  std::ifstream maps("/proc/self/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped.find("libcurl"), std::string::npos);
}

TEST_F(SmtpTest, PlainDeliveryIsAMimeMessageAMailClientReads) {
  SmtpServer server;
  auto mailer = wire(config(server.port(), MailSecurity::none));
  const JobReport r = report("Sicherung-M\xC3\xBCnchen\r\nBcc: evil@example.com");
  const auto before = unix_seconds();

  const MailResult result = mailer->send(compose_end_mail(config(server.port(), MailSecurity::none), r));
  const auto after = unix_seconds();

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  EXPECT_FALSE(result.kept_in_outbox);
  EXPECT_EQ(result.outbox_sent, 0);
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  const auto env = envelope(server.envelopes().at(0));
  EXPECT_EQ(field(env, "mail_from"), "copier@example.com");
  EXPECT_EQ(field(env, "rcpt_tos"), "ops@example.com,owner@example.com,boss@example.com");
  EXPECT_EQ(field(env, "ehlo"), kHost);
  EXPECT_EQ(json_bool(env, "tls"), false);

  const auto mail = parse_mail(server.message_files().at(0));
  EXPECT_EQ(json_int(mail, "defects"), 0);
  EXPECT_LE(json_int(mail, "max_line_length").value_or(999), 78);
  EXPECT_EQ(field(mail, "subject"),
            "[usb-backup-copier] backup01, disk Sicherung-M\xC3\xBCnchen  Bcc: evil@example.com: OK");
  const std::string names = "\n" + field(mail, "header_names") + "\n";
  EXPECT_EQ(names.find("\nBcc\n"), std::string::npos) << names;
  EXPECT_EQ(field(mail, "from"), "copier@example.com");
  EXPECT_EQ(field(mail, "to"), "ops@example.com, owner@example.com");
  EXPECT_EQ(field(mail, "cc"), "boss@example.com");
  const auto date = json_int(mail, "date_unix").value_or(0);
  EXPECT_GE(date, before);
  EXPECT_LE(date, after);
  const std::string id = field(mail, "message_id");
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@backup01.test>"), std::string::npos) << id;

  EXPECT_EQ(field(mail, "content_type"), "multipart/mixed");
  EXPECT_EQ(field(mail, "body_charset"), "utf-8");
  EXPECT_EQ(field(mail, "body"), compose_end_mail(config(0, MailSecurity::none), r).body);
  EXPECT_NE(field(mail, "body").find("Copied: 381 GiB in 1234 files\n"), std::string::npos);
  EXPECT_EQ(json_int(mail, "attachments"), 1);
  EXPECT_EQ(field(mail, "attachment_filename"), "usb-backup-copier-0a1b2c3d-1111-4222-a333-444455556666.log");
  EXPECT_EQ(field(mail, "attachment_content_type"), "text/plain");
  EXPECT_EQ(field(mail, "attachment_charset"), "utf-8");
  EXPECT_EQ(field(mail, "attachment"), r.run_log);
  EXPECT_TRUE(outbox_files().empty());
}

TEST_F(SmtpTest, StartTlsWithTheTestCaIsVerifiedAndDelivered) {
  const auto certs = test::make_test_certificates(dir_);
  SmtpServer server({.cert_file = certs.cert_file, .key_file = certs.key_file});
  auto mailer = wire(config(server.port(), MailSecurity::starttls), certs.ca_file);

  const MailResult result = mailer->send(mail_with_subject("over STARTTLS"));

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(json_bool(envelope(server.envelopes().at(0)), "tls"), true);
  EXPECT_EQ(field(parse_mail(server.message_files().at(0)), "subject"), "over STARTTLS");
}

TEST_F(SmtpTest, StartTlsWithAnUntrustedCertificateIsRefusedAndTheMailKept) {
  const auto certs = test::make_test_certificates(dir_);
  SmtpServer server({.cert_file = certs.cert_file, .key_file = certs.key_file});
  auto mailer = wire(config(server.port(), MailSecurity::starttls));  // system CAs

  const MailResult result = mailer->send(mail_with_subject("must not leave"));

  EXPECT_FALSE(result.sent);
  EXPECT_TRUE(result.kept_in_outbox);
  EXPECT_NE(result.error.find("certificate"), std::string::npos) << result.error;
  EXPECT_TRUE(sleeps_.empty()) << "a certificate that fails verification is not retried";
  EXPECT_FALSE(server.wait_for_messages(1, 500ms));

  const auto files = outbox_files();
  ASSERT_EQ(files.size(), 1u);
  struct stat st{};
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/outbox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  const auto kept = parse_kept_mail(test::read_file(files[0]));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->mail.from, "copier@example.com");
  EXPECT_EQ(kept->mail.recipients, (std::vector<std::string>{"ops@example.com", "boss@example.com"}));
  EXPECT_NE(kept->mail.message.find("Subject: must not leave\r\n"), std::string::npos);
}

TEST_F(SmtpTest, StartTlsWithACertificateForAnotherHostIsRefused) {
  const auto certs = test::make_test_certificates(dir_, {"DNS:other.example"});
  SmtpServer server({.cert_file = certs.cert_file, .key_file = certs.key_file});
  auto mailer = wire(config(server.port(), MailSecurity::starttls), certs.ca_file);

  const MailResult result = mailer->send(mail_with_subject("wrong name"));

  EXPECT_FALSE(result.sent);
  EXPECT_TRUE(result.kept_in_outbox);
  EXPECT_NE(result.error.find("certificate"), std::string::npos) << result.error;
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_FALSE(server.wait_for_messages(1, 500ms));
}

TEST_F(SmtpTest, ImplicitTlsIsDelivered) {
  const auto certs = test::make_test_certificates(dir_);
  SmtpServer server({.cert_file = certs.cert_file, .key_file = certs.key_file, .implicit_tls = true});
  auto mailer = wire(config(server.port(), MailSecurity::tls), certs.ca_file);

  const MailResult result = mailer->send(mail_with_subject("over smtps"));

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(json_bool(envelope(server.envelopes().at(0)), "tls"), true);
}

TEST_F(SmtpTest, SubmissionWithStartTlsAndAuthLikeAProvider) {
  const auto certs = test::make_test_certificates(dir_);
  SmtpServer server({.cert_file = certs.cert_file, .key_file = certs.key_file,
                     .username = "copier", .password = "pa ss:w\xC3\xB6rd"});
  Config c = config(server.port(), MailSecurity::starttls);
  c.mail_username = "copier";
  c.mail_password = "pa ss:w\xC3\xB6rd";
  auto mailer = wire(c, certs.ca_file);

  const MailResult result = mailer->send(mail_with_subject("authenticated"));

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  const auto env = envelope(server.envelopes().at(0));
  EXPECT_EQ(field(env, "login"), "copier");
  EXPECT_EQ(json_bool(env, "tls"), true);
}

TEST_F(SmtpTest, PasswordFileIsReadAndItsLineBreakDropped) {
  SmtpServer server({.username = "relay-user", .password = "from-the-file", .auth_without_tls = true});
  Config c = config(server.port(), MailSecurity::none);
  c.mail_username = "relay-user";
  c.mail_password = "not-this-one";
  c.mail_password_file = dir_ + "/password";
  test::write_file(c.mail_password_file, "from-the-file\n");
  auto mailer = wire(c);

  const MailResult result = mailer->send(mail_with_subject("password from file"));

  ASSERT_TRUE(result.sent) << result.error << "\n" << server.log();
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(field(envelope(server.envelopes().at(0)), "login"), "relay-user");
}

TEST_F(SmtpTest, WrongPasswordIsNotRetriedAndNeverAppearsInTheError) {
  SmtpServer server({.username = "copier", .password = "right", .auth_without_tls = true});
  Config c = config(server.port(), MailSecurity::none);
  c.mail_username = "copier";
  c.mail_password = "Wrong-Secret-4711";
  auto mailer = wire(c);

  const MailResult result = mailer->send(mail_with_subject("bad login"));

  EXPECT_FALSE(result.sent);
  EXPECT_TRUE(result.kept_in_outbox);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_NE(result.error.find("535"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find("Wrong-Secret-4711"), std::string::npos);
  EXPECT_EQ(result.error.find("V3JvbmctU2VjcmV0LTQ3MTE"), std::string::npos);  // base64 of it
  EXPECT_FALSE(server.wait_for_messages(1, 300ms));
}

TEST_F(SmtpTest, MissingPasswordFileKeepsTheMailAndNamesTheFile) {
  SmtpServer server({.username = "copier", .password = "x", .auth_without_tls = true});
  Config c = config(server.port(), MailSecurity::none);
  c.mail_username = "copier";
  c.mail_password_file = dir_ + "/no-such-password";
  auto mailer = wire(c);

  const MailResult result = mailer->send(mail_with_subject("no password"));

  EXPECT_FALSE(result.sent);
  EXPECT_TRUE(result.kept_in_outbox);
  EXPECT_NE(result.error.find(dir_ + "/no-such-password"), std::string::npos) << result.error;
  EXPECT_EQ(outbox_files().size(), 1u);
}

TEST_F(SmtpTest, ServerDownKeepsMailsThenTheNextRunSendsThemOldestFirst) {
  const int port = test::free_port();
  {
    auto mailer = wire(config(port, MailSecurity::none));
    const MailResult first = mailer->send(mail_with_subject("first"));
    EXPECT_FALSE(first.sent);
    EXPECT_TRUE(first.kept_in_outbox);
    EXPECT_NE(first.error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << first.error;
    EXPECT_EQ(sleeps_, (std::vector<std::chrono::milliseconds>{2s, 5s}));

    const MailResult second = mailer->send(mail_with_subject("second"));
    EXPECT_FALSE(second.sent);
    EXPECT_TRUE(second.kept_in_outbox);
    EXPECT_EQ(second.outbox_sent, 0);
    // The kept one was tried (and retried); the new one waited behind it.
    EXPECT_EQ(sleeps_.size(), 4u);
    EXPECT_EQ(outbox_files().size(), 2u);
  }

  SmtpServer server({.port = port});
  auto next_run = wire(config(port, MailSecurity::none));
  const MailResult third = next_run->send(mail_with_subject("third"));

  ASSERT_TRUE(third.sent) << third.error << "\n" << server.log();
  EXPECT_EQ(third.outbox_sent, 2);
  ASSERT_TRUE(server.wait_for_messages(3, 5s));
  const auto files = server.message_files();
  EXPECT_EQ(field(parse_mail(files[0]), "subject"), "first");
  EXPECT_EQ(field(parse_mail(files[1]), "subject"), "second");
  EXPECT_EQ(field(parse_mail(files[2]), "subject"), "third");
  EXPECT_TRUE(outbox_files().empty());
}

TEST_F(SmtpTest, TemporaryRejectionIsRetriedAfterTheBackOff) {
  SmtpServer server({.fail_code = 451, .fail_count = 1});
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(mail_with_subject("second try"));

  ASSERT_TRUE(result.sent) << result.error;
  EXPECT_EQ(sleeps_, (std::vector<std::chrono::milliseconds>{2s}));
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(server.message_files().size(), 1u);
}

TEST_F(SmtpTest, PermanentRejectionIsNotRetriedButKept) {
  SmtpServer server({.fail_code = 554, .fail_count = -1});
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(mail_with_subject("refused"));

  EXPECT_FALSE(result.sent);
  EXPECT_TRUE(result.kept_in_outbox);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_NE(result.error.find("554"), std::string::npos) << result.error;
  EXPECT_EQ(outbox_files().size(), 1u);
}

TEST_F(SmtpTest, ARefusedRecipientDoesNotKeepTheMailFromTheOthers) {
  SmtpServer server({.refuse = {"owner@example.com"}});
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(compose_end_mail(config(0, MailSecurity::none), report("Offsite-3")));

  ASSERT_TRUE(result.sent) << result.error;
  EXPECT_NE(result.error.find("owner@example.com"), std::string::npos) << result.error;
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(field(envelope(server.envelopes().at(0)), "rcpt_tos"), "ops@example.com,boss@example.com");
}

TEST_F(SmtpTest, AKeptMailRefusedForGoodDoesNotBlockNewerOnes) {
  SmtpServer server({.refuse = {"gone@example.com"}});
  OutboxDirectory outbox(dir_ + "/outbox");
  (void)outbox.add({{"copier@example.com", {"gone@example.com"},
                     "Subject: old\r\nFrom: copier@example.com\r\n\r\nold\r\n"}});
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(mail_with_subject("new"));

  ASSERT_TRUE(result.sent) << result.error;
  EXPECT_EQ(result.outbox_sent, 0);
  ASSERT_TRUE(server.wait_for_messages(1, 5s));
  EXPECT_EQ(field(parse_mail(server.message_files().at(0)), "subject"), "new");
  EXPECT_EQ(outbox_files().size(), 1u) << "the refused one stays for a human to look at";
}

TEST_F(SmtpTest, AnUnreadableOutboxEntryIsSetAside) {
  SmtpServer server;
  test::write_file(dir_ + "/outbox/000000000001.000000000-000000-1.mail", "not an outbox entry");
  auto mailer = wire(config(server.port(), MailSecurity::none));

  const MailResult result = mailer->send(mail_with_subject("after junk"));

  ASSERT_TRUE(result.sent) << result.error;
  EXPECT_TRUE(outbox_files().empty());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/outbox/000000000001.000000000-000000-1.mail.bad"));
}

TEST_F(SmtpTest, WithoutAServerNothingIsSentOrKept) {
  Config c = config(25, MailSecurity::none);
  c.mail_server.clear();
  auto mailer = wire(c);

  const MailResult result = mailer->send(mail_with_subject("nowhere"));

  EXPECT_FALSE(result.sent);
  EXPECT_FALSE(result.kept_in_outbox);
  EXPECT_NE(result.error.find("server"), std::string::npos);
  EXPECT_TRUE(outbox_files().empty());
}

}  // namespace
}  // namespace ubc
