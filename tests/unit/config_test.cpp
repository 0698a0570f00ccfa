// SPDX-License-Identifier: MIT
// build_config on the fixtures in fixtures/config: the older script's files, one fixture
// per kind of mistake (line, key and hint asserted), disk list edge cases, and the template.
#include "core/config.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "fakes/fake_config_environment.h"
#include "fakes/fake_ini_reader.h"

namespace ubc {
namespace {

using test::FakeConfigEnvironment;

const std::string kFixtures = UBC_FIXTURES_DIR "/config/";
const std::string kTemplate = UBC_FIXTURES_DIR "/../../../config.ini.template";
constexpr const char* kDiskKey = "Backup.filesystem-ids-and-notification-mail-addresses";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The directories and files the fixtures name, as an admin would have created them.
FakeConfigEnvironment prepared_machine() {
  FakeConfigEnvironment env;
  env.directory("/srv/veeam")
      .directory("/media/usb-backup-copier")
      .directory("/media/usb-backup")
      .file("/etc/usb-backup-copier/smtp-password", 0600);
  return env;
}

ConfigResult build_text(const std::string& path, const std::string& text,
                        FakeConfigEnvironment env = prepared_machine(), unsigned mode = 0600) {
  env.file(path, mode);
  return build_config(path, test::parse_ini_text(text), env);
}

ConfigResult build_fixture(const std::string& name, FakeConfigEnvironment env = prepared_machine(),
                           unsigned mode = 0600) {
  const std::string path = kFixtures + name;
  return build_text(path, test::read_text_file(path), std::move(env), mode);
}

std::string describe(const ConfigResult& result) {
  std::string out;
  for (const ConfigProblem& p : result.problems) out += format_problem("config.ini", p) + "\n";
  return out;
}

TEST(ConfigTest, MinimalConfigGetsEveryDefault) {
  const ConfigResult result = build_fixture("minimal.ini");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  const Config& c = result.config;
  const Config defaults;
  EXPECT_EQ(c.path, kFixtures + "minimal.ini");
  EXPECT_EQ(c.backup_source, "/srv/veeam");
  EXPECT_EQ(c.backup_destination, "/media/usb-backup-copier");
  EXPECT_EQ(c.backup_lockfile_path, "/srv/veeam/.usb-backup-copier.lock");
  EXPECT_EQ(c.veeam_lockfiles, defaults.veeam_lockfiles);
  EXPECT_EQ(c.veeam_lockfile_path, defaults.veeam_lockfiles + "/coordination.lock");
  EXPECT_EQ(c.log_file_path, "");
  EXPECT_EQ(c.rsync_log_file_path, "");
  EXPECT_EQ(c.wait_for_veeam_minutes, defaults.wait_for_veeam_minutes);
  EXPECT_EQ(c.wait_for_queue_minutes, 720);
  EXPECT_EQ(c.stall_timeout_minutes, defaults.stall_timeout_minutes);
  EXPECT_EQ(c.max_delete_percent, 50);
  EXPECT_EQ(c.history_keep_days, 365);
  EXPECT_EQ(c.metrics_textfile, "");
  EXPECT_EQ(c.verify, VerifyMode::written);
  EXPECT_TRUE(c.copy_yields_to_veeam);
  EXPECT_FALSE(c.require_enrollment);
  EXPECT_FALSE(c.source_must_be_mountpoint);
  EXPECT_EQ(c.state_directory, "/var/lib/usb-backup-copier");
  EXPECT_EQ(c.runtime_directory, "/run/usb-backup-copier");
  EXPECT_EQ(c.mail_security, MailSecurity::starttls);
  EXPECT_EQ(c.effective_mail_port(), 587);
  EXPECT_TRUE(c.send_start_mail);
  EXPECT_EQ(c.webhost, "127.0.0.1");
  EXPECT_EQ(c.webport, 8080);
  EXPECT_FALSE(c.debug);
}

TEST(ConfigTest, ReadsEveryKeyOfTheOlderScriptUnchanged) {
  const ConfigResult result = build_fixture("legacy.ini");
  ASSERT_FALSE(result.has_errors()) << describe(result);
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  const Config& c = result.config;
  ASSERT_EQ(c.disks.size(), 3U);
  EXPECT_EQ(c.disks[0].uuid, "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
  EXPECT_EQ(c.disks[0].mails, std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(c.disks[1].uuid, "1a2b-3c4d");
  EXPECT_TRUE(c.disks[1].mails.empty());
  EXPECT_EQ(c.disks[2].uuid, "0123456789abcdef");
  EXPECT_EQ(c.disks[2].mails, std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(c.backup_source, "/srv/veeam");
  EXPECT_EQ(c.backup_destination, "/media/usb-backup");
  EXPECT_EQ(c.backup_lockfile_path, "/srv/veeam/backup.lock");
  EXPECT_EQ(c.veeam_lockfile_path, "/var/lock/veeam/veeam.lock");
  EXPECT_EQ(c.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(c.log_file_path, "/var/log/usb-backup.log");
  EXPECT_EQ(c.rsync_log_file_path, "/var/log/usb-backup-rsync.log");
  EXPECT_EQ(c.wait_for_veeam_minutes, 60);
  EXPECT_EQ(c.rsync_update_ratio_seconds, 30);
  EXPECT_EQ(c.free_space_threshold_gb, 100);
  EXPECT_EQ(c.sysop_mails, (std::vector<std::string>{"sysop1@example.com", "sysop2@example.com"}));
  EXPECT_EQ(c.from_mail, "backup@example.com");
  EXPECT_EQ(c.cc_mails, std::vector<std::string>{"boss@example.com"});
  EXPECT_EQ(c.mail_server, "mail.example.com");
  EXPECT_EQ(c.mail_port, 587);
  EXPECT_EQ(c.mail_username, "backup@example.com");
  EXPECT_EQ(c.mail_password, "s3cret!pass");
  EXPECT_EQ(c.webhost, "0.0.0.0");
  EXPECT_EQ(c.webport, 8000);
  EXPECT_EQ(c.wait_for_backup_minutes, 5);
  EXPECT_FALSE(c.debug);
}

TEST(ConfigTest, TakesTheOlderScriptsWholeFileAsItsUsersWroteIt) {
  const ConfigResult result = build_fixture("older_script.ini");
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  const Config& c = result.config;
  ASSERT_EQ(c.disks.size(), 3U);
  EXPECT_EQ(c.disks[0].mails, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(c.disks[1].uuid, "1a2b-3c4d");
  EXPECT_EQ(c.disks[2].mails, std::vector<std::string>{"carol@example.com"});
  EXPECT_EQ(c.backup_source, "/srv/veeam");
  EXPECT_EQ(c.backup_destination, "/media/usb-backup");
  // `.lock` is read from the source; the Veeam directory holds the coordination file.
  EXPECT_EQ(c.backup_lockfile_path, "/srv/veeam/.lock");
  EXPECT_EQ(c.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(c.veeam_lockfile_path, "/var/lock/veeam/coordination.lock");
  EXPECT_EQ(c.log_file_path, "/var/log/asbackup/backup.log");
  EXPECT_EQ(c.wait_for_veeam_minutes, 480);
  EXPECT_EQ(c.free_space_threshold_gb, 200);
  EXPECT_TRUE(c.cc_mails.empty());
  EXPECT_EQ(c.sysop_mails, (std::vector<std::string>{"it@example.com", "admin@example.com"}));
  EXPECT_EQ(c.mail_port, 587);
  EXPECT_EQ(c.mail_password, "Pa55-word!");
  EXPECT_EQ(c.webhost, "0.0.0.0");
  EXPECT_EQ(c.webport, 8080);
  EXPECT_FALSE(c.debug);
}

TEST(ConfigTest, ReadsRequireEnrollmentAndSecurityStrict) {
  const ConfigResult result = build_fixture("require_enrollment.ini");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_TRUE(result.config.require_enrollment);
  EXPECT_TRUE(result.config.security_strict);
}

// A config with security-strict = yes whose last line (11) is the given [Mail] line.
std::string strict_config(const std::string& password_line) {
  return "[Backup]\n"
         "filesystem-ids-and-notification-mail-addresses = 0a1b2c3d-4e5f-6789-abcd-ef0123456789\n"
         "backup-source = /srv/veeam\n"
         "backup-destination = /media/usb-backup-copier\n"
         "security-strict = yes\n"
         "[Mail]\n"
         "to-mail-addresses-sysop = admin@example.com\n"
         "from-mail-address = usb-backup@example.com\n"
         "server = smtp.example.com\n"
         "username = copier\n" +
         password_line + "\n";
}

TEST(ConfigTest, RefusesAWorldReadablePasswordWithSecurityStrict) {
  const std::string text = strict_config("password = Zebra-Quartz-77");
  const ConfigResult strict = build_text("/etc/ubc/config.ini", text, prepared_machine(), 0644);
  ASSERT_EQ(strict.problems.size(), 1U) << describe(strict);
  const ConfigProblem& p = strict.problems[0];
  EXPECT_EQ(p.severity, ConfigProblem::Severity::error);
  EXPECT_EQ(p.line, 11);
  EXPECT_EQ(p.key, "Mail.password");
  EXPECT_TRUE(contains(p.message, "chmod 600 /etc/ubc/config.ini")) << p.message;
  EXPECT_TRUE(contains(p.message, "security-strict = yes")) << p.message;
  EXPECT_FALSE(contains(p.message, "Zebra-Quartz-77")) << p.message;
  // Private, the same file passes.
  EXPECT_TRUE(build_text("/etc/ubc/config.ini", text, prepared_machine(), 0600).problems.empty());
}

TEST(ConfigTest, RefusesAWorldReadablePasswordFileWithSecurityStrict) {
  FakeConfigEnvironment env = prepared_machine();
  env.file("/etc/ubc/smtp-password", 0644);
  const ConfigResult strict =
      build_text("/etc/ubc/config.ini", strict_config("password-file = /etc/ubc/smtp-password"), env, 0600);
  ASSERT_EQ(strict.problems.size(), 1U) << describe(strict);
  EXPECT_EQ(strict.problems[0].severity, ConfigProblem::Severity::error);
  EXPECT_EQ(strict.problems[0].line, 11);
  EXPECT_EQ(strict.problems[0].key, "Mail.password-file");
  EXPECT_TRUE(contains(strict.problems[0].message, "chmod 600 /etc/ubc/smtp-password"));
}

TEST(ConfigTest, WarnsWithoutQuotingItWhenTheFileWithThePasswordIsWorldReadable) {
  const ConfigResult result = build_fixture("legacy.ini", prepared_machine(), 0644);
  EXPECT_FALSE(result.has_errors()) << describe(result);
  ASSERT_EQ(result.problems.size(), 1U) << describe(result);
  const ConfigProblem& p = result.problems[0];
  EXPECT_EQ(p.severity, ConfigProblem::Severity::warning);
  EXPECT_EQ(p.line, 21);
  EXPECT_EQ(p.key, "Mail.password");
  EXPECT_TRUE(contains(p.message, "chmod 600 " + kFixtures + "legacy.ini")) << p.message;
  EXPECT_TRUE(contains(p.message, "password-file")) << p.message;
  EXPECT_FALSE(contains(p.message, "s3cret")) << p.message;
}

struct MistakeCase {
  const char* fixture;
  int line;
  const char* key;
  const char* hint;  // part of the message that says what to write instead
};

void PrintTo(const MistakeCase& c, std::ostream* os) { *os << c.fixture; }

class ConfigMistakeTest : public testing::TestWithParam<MistakeCase> {};

TEST_P(ConfigMistakeTest, ReportsExactlyThisMistakeWithLineKeyAndHint) {
  const MistakeCase& expected = GetParam();
  const ConfigResult result = build_fixture(expected.fixture);
  ASSERT_EQ(result.problems.size(), 1U) << describe(result);
  const ConfigProblem& p = result.problems[0];
  EXPECT_EQ(p.severity, ConfigProblem::Severity::error);
  EXPECT_EQ(p.line, expected.line) << p.message;
  EXPECT_EQ(p.key, expected.key);
  EXPECT_TRUE(contains(p.message, expected.hint)) << p.message;
  EXPECT_TRUE(result.has_errors());
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ConfigMistakeTest,
    testing::Values(
        MistakeCase{"error_unknown_key.ini", 6, "Backup.wait-for-veeam-minute",
                    "did you mean 'wait-for-veeam-minutes'?"},
        MistakeCase{"error_key_in_wrong_section.ini", 6, "Backup.webport",
                    "belongs in [Webserver], not [Backup]; move the line there"},
        MistakeCase{"error_unknown_section.ini", 13, "[Webserer]", "did you mean [Webserver]?"},
        MistakeCase{"error_key_before_section.ini", 2, "debug", "move it below [Debug]"},
        MistakeCase{"error_not_a_number.ini", 6, "Backup.wait-for-veeam-minutes",
                    "'two hours' is not a whole number; write a whole number of minutes from 0 "
                    "to 10080, e.g. `wait-for-veeam-minutes = 120`"},
        MistakeCase{"error_out_of_range.ini", 6, "Backup.max-delete-percent",
                    "150 is out of range; write a whole number of percent from 0 to 100"},
        MistakeCase{"error_bad_boolean.ini", 6, "Backup.copy-yields-to-veeam",
                    "'maybe' is not yes or no; write `copy-yields-to-veeam = yes`"},
        MistakeCase{"error_bad_uuid.ini", 3, kDiskKey,
                    "'0a1b2c3d-4e5f-6789-abcd-ef012345678' is not a filesystem UUID; write it as "
                    "`lsblk -f` shows it"},
        MistakeCase{"error_device_instead_of_uuid.ini", 3, kDiskKey,
                    "write the UUID that `blkid /dev/sdb1` shows"},
        MistakeCase{"error_mail_before_uuid.ini", 3, kDiskKey,
                    "comes before any disk UUID; write the disk's UUID first"},
        MistakeCase{"error_bad_mail_in_disk_list.ini", 3, kDiskKey,
                    "write only the address, without a name or <>"},
        MistakeCase{"error_uuid_twice.ini", 4, kDiskKey,
                    "is listed twice (lines 3 and 4); list each disk once"},
        MistakeCase{"error_empty_disk_list.ini", 3, kDiskKey,
                    "is empty; no disk would ever be copied; list the filesystem UUIDs"},
        MistakeCase{"error_missing_source.ini", 0, "Backup.backup-source",
                    "is missing; write `backup-source = /srv/veeam` in [Backup]"},
        MistakeCase{"error_source_not_directory.ini", 4, "Backup.backup-source",
                    "'/srv/nothing-here' does not exist or is not a directory"},
        MistakeCase{"error_destination_missing.ini", 5, "Backup.backup-destination",
                    "create it with `mkdir -p /media/not-created`"},
        MistakeCase{"error_relative_path.ini", 5, "Backup.backup-destination",
                    "is not an absolute path; write the full path starting with '/'"},
        MistakeCase{"error_destination_inside_source.ini", 5, "Backup.backup-destination",
                    "so the copy would copy itself; mount the disk outside the source"},
        MistakeCase{"error_duplicate_key.ini", 6, "Backup.backup-source",
                    "is set twice (first on line 4); delete one of the two lines"},
        MistakeCase{"error_password_and_file.ini", 13, "Mail.password-file",
                    "password (line 12) and password-file are both set; delete the password line"},
        MistakeCase{"error_veeam_lockfile_mismatch.ini", 6, "Backup.veeam-lockfile-path",
                    "'/var/lock/veeam/coordination.lock' is not in the lease directory "
                    "veeam-lockfiles = '/var/lib/usb-backup-copier/veeam' (line 14)"},
        MistakeCase{"error_excludes_missing.ini", 6, "Backup.rsync-excludes-file",
                    "'/etc/usb-backup-copier/excludes' does not exist or is not a file; create it"},
        MistakeCase{"error_ca_file_missing.ini", 11, "Mail.ca-file",
                    "does not exist or is not a file; put the PEM certificate of the CA"},
        MistakeCase{"error_bad_security.ini", 11, "Mail.security",
                    "'ssl' is not a security mode; write starttls (port 587), tls (implicit TLS"},
        MistakeCase{"error_bad_verify.ini", 6, "Backup.verify",
                    "'yes' is not a verification mode; write written (read back what this run wrote), all"},
        MistakeCase{"error_mail_section_missing.ini", 0, "[Mail]",
                    "add [Mail] with server, from-mail-address and to-mail-addresses-sysop"},
        MistakeCase{"error_bad_from_address.ini", 9, "Mail.from-mail-address",
                    "'usb-backup' is not a mail address; write a plain address"},
        MistakeCase{"error_server_with_port.ini", 10, "Mail.server",
                    "write the host in `server = smtp.example.com` and the port in `port = 465`"},
        MistakeCase{"error_bad_port.ini", 11, "Mail.port",
                    "0 is out of range; write a whole number from 1 to 65535, e.g. `port = 587`"}));

TEST(ConfigTest, AnIndentedKeyIsReadAsMoreOfTheValueAboveAndSaysSo) {
  const ConfigResult result = build_fixture("error_indented_key.ini");
  ASSERT_EQ(result.problems.size(), 2U) << describe(result);
  EXPECT_EQ(result.problems[0].line, 0);
  EXPECT_EQ(result.problems[0].key, "Backup.backup-destination");
  EXPECT_EQ(result.problems[1].line, 4);
  EXPECT_EQ(result.problems[1].key, "Backup.backup-source");
  EXPECT_TRUE(contains(result.problems[1].message, "remove the indentation of line 5"))
      << result.problems[1].message;
}

TEST(ConfigTest, NewUserWithFiveMistakesGetsFiveProblemsEachSayingWhatToWrite) {
  const ConfigResult result = build_fixture("new_user.ini");
  ASSERT_EQ(result.problems.size(), 5U) << describe(result);
  const MistakeCase expected[] = {
      {"", 4, kDiskKey, "write the UUID that `blkid /dev/sdb1` shows"},
      {"", 6, "Backup.backup-destination", "write the full path starting with '/'"},
      {"", 7, "Backup.wait_for_veeam_minutes", "did you mean 'wait-for-veeam-minutes'?"},
      {"", 10, "Mail.to-mail-addresses-sysop",
       "separate addresses with commas: alice@example.com, bob@example.com"},
      {"", 13, "Mail.security", "write starttls (port 587), tls"},
  };
  for (std::size_t i = 0; i < 5; ++i) {
    const ConfigProblem& p = result.problems[i];
    EXPECT_EQ(p.severity, ConfigProblem::Severity::error);
    EXPECT_EQ(p.line, expected[i].line);
    EXPECT_EQ(p.key, expected[i].key);
    EXPECT_TRUE(contains(p.message, expected[i].hint)) << p.message;
    const std::string printed = format_problem("/etc/usb-backup-copier/config.ini", p);
    EXPECT_EQ(printed.rfind("/etc/usb-backup-copier/config.ini:" +
                                std::to_string(expected[i].line) + ": " + expected[i].key + ": ",
                            0),
              0U)
        << printed;
  }
}

TEST(ConfigDiskListTest, ReadsSeveralDisksWithMixedCaseSpacesAndDisksWithoutMail) {
  const ConfigResult result = build_fixture("disks_several.ini");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  const auto& disks = result.config.disks;
  ASSERT_EQ(disks.size(), 3U);
  EXPECT_EQ(disks[0].uuid, "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
  EXPECT_EQ(disks[0].mails, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(disks[1].uuid, "1a2b-3c4d");
  EXPECT_TRUE(disks[1].mails.empty());
  EXPECT_EQ(disks[2].uuid, "0123456789abcdef");
  EXPECT_EQ(disks[2].mails, std::vector<std::string>{"carol@example.com"});
  for (const DiskEntry& disk : disks) EXPECT_EQ(disk.line, 4);
}

TEST(ConfigDiskListTest, ReadsADiskListContinuedOverSeveralLinesWithTheLineOfEachDisk) {
  const ConfigResult result = build_fixture("disks_continuation.ini");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  const auto& disks = result.config.disks;
  ASSERT_EQ(disks.size(), 4U);
  EXPECT_EQ(disks[0].uuid, "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
  EXPECT_EQ(disks[0].line, 5);
  EXPECT_EQ(disks[0].mails, std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(disks[1].uuid, "1a2b-3c4d");
  EXPECT_EQ(disks[1].line, 7);
  EXPECT_TRUE(disks[1].mails.empty());
  EXPECT_EQ(disks[2].uuid, "0123456789abcdef");
  EXPECT_EQ(disks[2].line, 9);
  EXPECT_EQ(disks[2].mails, std::vector<std::string>{"bob@example.com"});  // comment dropped
  EXPECT_EQ(disks[3].uuid, "fedcba98-7654-3210-fedc-ba9876543210");
  EXPECT_EQ(disks[3].line, 10);
  EXPECT_EQ(result.config.sysop_mails,
            (std::vector<std::string>{"admin@example.com", "second-admin@example.com"}));
}

TEST(ConfigDiskListTest, FindsDisksCaseInsensitivelyAndNothingElse) {
  const ConfigResult result = build_fixture("disks_several.ini");
  const Config& c = result.config;
  ASSERT_NE(c.find_disk("0a1b2c3d-4e5f-6789-abcd-ef0123456789"), nullptr);
  EXPECT_EQ(c.find_disk("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"), &c.disks[0]);
  EXPECT_EQ(c.find_disk("1A2B-3C4D"), &c.disks[1]);
  EXPECT_EQ(c.find_disk("0123456789ABCDEF"), &c.disks[2]);
  EXPECT_EQ(c.find_disk("1a2b-3c4e"), nullptr);
  EXPECT_EQ(c.find_disk("1a2b"), nullptr);
  EXPECT_EQ(c.find_disk("0123456789abcdef0"), nullptr);
  EXPECT_EQ(c.find_disk(""), nullptr);
}

TEST(ConfigDiskListTest, ListedDisksStayFindableWhenTheConfigHasErrorsElsewhere) {
  const ConfigResult bad_security = build_fixture("error_bad_security.ini");
  ASSERT_TRUE(bad_security.has_errors());
  EXPECT_NE(bad_security.config.find_disk("0A1B2C3D-4E5F-6789-ABCD-EF0123456789"), nullptr);
  // A bad token in the list does not hide the good ones.
  const ConfigResult mail_first = build_fixture("error_mail_before_uuid.ini");
  ASSERT_TRUE(mail_first.has_errors());
  EXPECT_NE(mail_first.config.find_disk("0a1b2c3d-4e5f-6789-abcd-ef0123456789"), nullptr);
  const ConfigResult bad_uuid = build_fixture("error_bad_uuid.ini");
  EXPECT_TRUE(bad_uuid.config.disks.empty());
}

// The template with its required paths present: what a fresh install needs to pass.
TEST(ConfigTemplateTest, PassesWithoutAnyProblemOnceItsPathsExist) {
  const ConfigResult result = build_text(kTemplate, test::read_text_file(kTemplate));
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_EQ(result.config.disks.size(), 3U);
  EXPECT_EQ(result.config.backup_source, "/srv/veeam");
  EXPECT_EQ(result.config.backup_destination, "/media/usb-backup-copier");
}

TEST(ConfigTemplateTest, FailsUntilTheSourceAndMountPointExist) {
  const ConfigResult result =
      build_text(kTemplate, test::read_text_file(kTemplate), FakeConfigEnvironment{});
  ASSERT_EQ(result.problems.size(), 2U) << describe(result);
  EXPECT_EQ(result.problems[0].key, "Backup.backup-source");
  EXPECT_EQ(result.problems[1].key, "Backup.backup-destination");
}

// Every optional key of the template, uncommented as documented, is a known key and its
// documented default is valid; together with the active keys they are all the keys there are.
TEST(ConfigTemplateTest, DocumentsEveryKeyWithAValidDefault) {
  const std::string text = std::regex_replace(
      test::read_text_file(kTemplate), std::regex("^;([a-z-]+ =)", std::regex::multiline), "$1");
  const ConfigResult result = build_text(kTemplate, text);
  EXPECT_TRUE(result.problems.empty()) << describe(result);

  std::set<std::string> keys;
  for (const IniEntry& e : test::parse_ini_text(text)) keys.insert(e.section + "." + e.key);
  const std::set<std::string> expected = {"Backup.filesystem-ids-and-notification-mail-addresses",
                                          "Backup.backup-source",
                                          "Backup.backup-destination",
                                          "Backup.backup-lockfile-path",
                                          "Backup.veeam-lockfile-path",
                                          "Backup.log-file-path",
                                          "Backup.rsync-log-file-path",
                                          "Backup.wait-for-veeam-minutes",
                                          "Backup.rsync-update-ratio-seconds",
                                          "Backup.free-space-threshold-gb",
                                          "Backup.state-directory",
                                          "Backup.runtime-directory",
                                          "Backup.rsync-excludes-file",
                                          "Backup.stall-timeout-minutes",
                                          "Backup.copy-yields-to-veeam",
                                          "Backup.veeam-lease-ttl-hours",
                                          "Backup.stale-after-days",
                                          "Backup.history-keep-days",
                                          "Backup.require-enrollment",
                                          "Backup.security-strict",
                                          "Backup.max-delete-percent",
                                          "Backup.source-must-be-mountpoint",
                                          "Backup.wait-for-queue-minutes",
                                          "Backup.verify",
                                          "Backup.restore-points",
                                          "Mail.to-mail-addresses-sysop",
                                          "Mail.from-mail-address",
                                          "Mail.cc",
                                          "Mail.server",
                                          "Mail.port",
                                          "Mail.username",
                                          "Mail.password",
                                          "Mail.password-file",
                                          "Mail.ca-file",
                                          "Mail.security",
                                          "Mail.send-start-mail",
                                          "Monitoring.metrics-textfile",
                                          "Monitoring.ping-url",
                                          "Webserver.webhost",
                                          "Webserver.webport",
                                          "VEEAM.veeam-lockfiles",
                                          "VEEAM.wait-for-backup-minutes",
                                          "Debug.debug"};
  EXPECT_EQ(keys, expected);
}

ConfigResult with_metrics_textfile(const std::string& value) {
  const std::string text = test::read_text_file(kFixtures + "minimal.ini") + "\n[Monitoring]\nmetrics-textfile = " + value + "\n";
  return build_text(kFixtures + "minimal.ini", text, prepared_machine().directory("/var/lib/node-exporter"));
}

TEST(ConfigMonitoringTest, MetricsTextfileIsAPromFileInAnExistingDirectory) {
  const ConfigResult good = with_metrics_textfile("/var/lib/node-exporter/ubc.prom");
  EXPECT_TRUE(good.problems.empty()) << describe(good);
  EXPECT_EQ(good.config.metrics_textfile, "/var/lib/node-exporter/ubc.prom");

  const auto only_error = [](const ConfigResult& r, const std::string& hint) {
    ASSERT_EQ(r.problems.size(), 1u) << describe(r);
    EXPECT_EQ(r.problems[0].key, "Monitoring.metrics-textfile");
    EXPECT_TRUE(contains(r.problems[0].message, hint)) << r.problems[0].message;
    EXPECT_EQ(r.config.metrics_textfile, "");
  };
  only_error(with_metrics_textfile("ubc.prom"), "is not an absolute path");
  only_error(with_metrics_textfile("/var/lib/node-exporter/ubc.txt"), "does not end in .prom");
  only_error(with_metrics_textfile("/var/lib/missing/ubc.prom"), "'/var/lib/missing' does not exist");
}

TEST(ConfigMonitoringTest, PingUrlIsHttpOrHttps) {
  const auto with_ping_url = [](const std::string& value) {
    const std::string text = test::read_text_file(kFixtures + "minimal.ini") + "\n[Monitoring]\nping-url = " + value + "\n";
    return build_text(kFixtures + "minimal.ini", text);
  };
  const ConfigResult good = with_ping_url("https://hc-ping.com/5f0c");
  EXPECT_TRUE(good.problems.empty()) << describe(good);
  EXPECT_EQ(good.config.ping_url, "https://hc-ping.com/5f0c");
  const ConfigResult bad = with_ping_url("ftp://example.com/ping");
  ASSERT_EQ(bad.problems.size(), 1u) << describe(bad);
  EXPECT_EQ(bad.problems[0].key, "Monitoring.ping-url");
  EXPECT_TRUE(contains(bad.problems[0].message, "is not an http:// or https:// URL")) << bad.problems[0].message;
  EXPECT_EQ(bad.config.ping_url, "");
}

}  // namespace
}  // namespace ubc
