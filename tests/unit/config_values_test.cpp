// SPDX-License-Identifier: MIT
// The value rules of config.ini, one at a time, on entries written inline.
#include "core/config_values.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "fakes/fake_config_environment.h"
#include "fakes/fake_ini_reader.h"

namespace ubc {
namespace {

using test::FakeConfigEnvironment;

constexpr const char* kPath = "/etc/usb-backup-copier/config.ini";

// A valid [Backup] and [Mail]; tests append what they examine (from line 8 on).
const std::string kValid =
    "[Backup]\n"
    "filesystem-ids-and-notification-mail-addresses = 1A2B-3C4D\n"
    "backup-source = /srv/veeam\n"
    "backup-destination = /media/usb-backup-copier\n"
    "[Mail]\n"
    "to-mail-addresses-sysop = admin@example.com\n"
    "from-mail-address = usb-backup@example.com\n";

FakeConfigEnvironment machine(unsigned config_mode = 0600) {
  FakeConfigEnvironment env;
  env.directory("/srv/veeam").directory("/media/usb-backup-copier").file(kPath, config_mode);
  return env;
}

ConfigResult build(const std::string& more, const FakeConfigEnvironment& env = machine()) {
  return build_config(kPath, test::parse_ini_text(kValid + "server = smtp.example.com\n" + more),
                      env);
}

std::string all_messages(const ConfigResult& result) {
  std::string out;
  for (const ConfigProblem& p : result.problems) out += format_problem(kPath, p) + "\n";
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigValuesTest, AcceptsTheThreeUuidFormsInAnyCase) {
  for (const char* uuid :
       {"0a1b2c3d-4e5f-6789-abcd-ef0123456789", "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", "1a2b-3c4d",
        "1A2B-3C4D", "0123456789abcdef", "0123456789ABCDEF"}) {
    EXPECT_TRUE(is_valid_fs_uuid(uuid)) << uuid;
  }
  for (const char* bad :
       {"", "0a1b2c3d-4e5f-6789-abcd-ef012345678", "0a1b2c3d-4e5f-6789-abcd-ef01234567890",
        "0a1b2c3d4-e5f-6789-abcd-ef0123456789", "0a1b2c3d-4e5f-6789-abcd-ef012345678g", "1A2B3C4D",
        "1A2B-3C4", "1A2-B3C4D", "0123456789ABCDEG", "0123456789ABCDE", "/dev/sdb1",
        "UUID=1A2B-3C4D"}) {
    EXPECT_FALSE(is_valid_fs_uuid(bad)) << bad;
  }
}

TEST(ConfigValuesTest, AcceptsPlainMailAddressesOnly) {
  for (const char* mail : {"a@b.c", "first.last+tag@sub.example.co.uk", "root@localhost",
                           "o'brien@example.com", "x_y-z@ex-ample.com"}) {
    EXPECT_TRUE(is_valid_mail_address(mail)) << mail;
  }
  for (const char* bad :
       {"", "@example.com", "alice@", "alice", "a@@example.com", "a@b@c.com", "a b@example.com",
        "a@example..com", "a@-example.com", "a@example-.com", ".a@example.com", "a.@example.com",
        "a..b@example.com", "Alice <a@example.com>", "a@example.com,",
        "a@example.com\r\nBcc: x@y.z", "a@example.com.", "a@exa_mple.com"}) {
    EXPECT_FALSE(is_valid_mail_address(bad)) << bad;
  }
}

TEST(ConfigValuesTest, FormatsProblemsAsCheckConfigPrintsThem) {
  using S = ConfigProblem::Severity;
  EXPECT_EQ(format_problem("/c.ini", {S::error, 12, "Backup.port", "bad"}),
            "/c.ini:12: Backup.port: bad");
  EXPECT_EQ(format_problem("/c.ini", {S::error, 0, "Backup.backup-source", "is missing"}),
            "/c.ini: Backup.backup-source: is missing");
  EXPECT_EQ(format_problem("/c.ini", {S::error, 3, "", "not INI"}), "/c.ini:3: not INI");
  EXPECT_EQ(format_problem("/c.ini", {S::warning, 7, "Mail.password", "chmod"}),
            "/c.ini:7: Mail.password: warning: chmod");
}

TEST(ConfigValuesTest, MailPortDefaultsFollowTheSecurityMode) {
  Config c;
  EXPECT_EQ(c.effective_mail_port(), 587);
  c.mail_security = MailSecurity::tls;
  EXPECT_EQ(c.effective_mail_port(), 465);
  c.mail_security = MailSecurity::none;
  EXPECT_EQ(c.effective_mail_port(), 25);
  c.mail_port = 2525;
  EXPECT_EQ(c.effective_mail_port(), 2525);
}

TEST(ConfigValuesTest, ReadsBooleansAsConfigparserDid) {
  for (const char* yes : {"yes", "YES", "true", "True", "on", "1"}) {
    const ConfigResult r = build(std::string("[Debug]\ndebug = ") + yes + "\n");
    EXPECT_FALSE(r.has_errors()) << all_messages(r);
    EXPECT_TRUE(r.config.debug) << yes;
  }
  for (const char* no : {"no", "No", "false", "FALSE", "off", "0"}) {
    const ConfigResult r = build(std::string("[Debug]\ndebug = ") + no + "\n");
    EXPECT_FALSE(r.has_errors()) << all_messages(r);
    EXPECT_FALSE(r.config.debug) << no;
  }
}

TEST(ConfigValuesTest, SectionAndKeyNamesAreCaseInsensitive) {
  const ConfigResult r =
      build("[WEBSERVER]\nWebPort = 9090\n[veeam]\nWait-For-Backup-Minutes = 3\n");
  EXPECT_TRUE(r.problems.empty()) << all_messages(r);
  EXPECT_EQ(r.config.webport, 9090);
  EXPECT_EQ(r.config.wait_for_backup_minutes, 3);
}

TEST(ConfigValuesTest, AnEmptyValueMeansTheDefault) {
  const ConfigResult r = build("port =\nsecurity =\n[Webserver]\nwebport =\nwebhost =\n");
  EXPECT_TRUE(r.problems.empty()) << all_messages(r);
  EXPECT_EQ(r.config.mail_port, 0);
  EXPECT_EQ(r.config.webport, 8080);
  EXPECT_EQ(r.config.webhost, "127.0.0.1");
}

TEST(ConfigValuesTest, SettingOnlyTheVeeamLockfileTakesItsDirectoryForTheLeases) {
  const ConfigResult r = build("[Backup]\n");  // nothing new: defaults
  EXPECT_EQ(r.config.veeam_lockfile_path, "/var/lib/usb-backup-copier/veeam/coordination.lock");
  const ConfigResult only_file =
      build("[Backup]\nveeam-lockfile-path = /var/lock/veeam/veeam.lock\n");
  EXPECT_TRUE(only_file.problems.empty()) << all_messages(only_file);
  EXPECT_EQ(only_file.config.veeam_lockfile_path, "/var/lock/veeam/veeam.lock");
  EXPECT_EQ(only_file.config.veeam_lockfiles, "/var/lock/veeam");
}

TEST(ConfigValuesTest, ComparesTheVeeamPathsWithoutTrailingOrDoubledSlashes) {
  const std::string text =
      kValid +
      "server = smtp.example.com\n[VEEAM]\nveeam-lockfiles = /var/lock/veeam/\n"
      "[Backup]\nveeam-lockfile-path = /var/lock//veeam/x.lock\n";
  const ConfigResult r = build_config(kPath, test::parse_ini_text(text), machine());
  EXPECT_TRUE(r.problems.empty()) << all_messages(r);
  EXPECT_EQ(r.config.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(r.config.veeam_lockfile_path, "/var/lock/veeam/x.lock");
}

TEST(ConfigValuesTest, ResolvesARelativePathLexicallyFromItsBase) {
  EXPECT_EQ(config_values::resolve_path("/srv/veeam", ".lock"), "/srv/veeam/.lock");
  EXPECT_EQ(config_values::resolve_path("/srv/veeam/", "./locks//copier.lock"), "/srv/veeam/locks/copier.lock");
  EXPECT_EQ(config_values::resolve_path("/srv/veeam", "../run/x.lock"), "/srv/run/x.lock");
  EXPECT_EQ(config_values::resolve_path("/srv", "../../x"), "/x");
  EXPECT_EQ(config_values::resolve_path("/", "a/."), "/a");
}

TEST(ConfigValuesTest, ReadsARelativeRunLockFromTheSourceAsTheOlderScriptDid) {
  const ConfigResult r = build("[Backup]\nbackup-lockfile-path = ./locks/../.lock\n");
  EXPECT_TRUE(r.problems.empty()) << all_messages(r);
  EXPECT_EQ(r.config.backup_lockfile_path, "/srv/veeam/.lock");

  // Without a usable source there is nothing to resolve against: only the source's error.
  const ConfigResult no_source = build_config(
      kPath,
      test::parse_ini_text("[Backup]\nbackup-source = /srv/absent\nbackup-lockfile-path = .lock\n"),
      machine());
  EXPECT_TRUE(contains(all_messages(no_source), "Backup.backup-source")) << all_messages(no_source);
  EXPECT_FALSE(contains(all_messages(no_source), "backup-lockfile-path")) << all_messages(no_source);
}

TEST(ConfigValuesTest, RefusesADirectoryAsTheRunLock) {
  FakeConfigEnvironment env = machine();
  env.directory("/srv/veeam/locks");
  const ConfigResult r = build("[Backup]\nbackup-lockfile-path = locks\n", env);
  ASSERT_EQ(r.problems.size(), 1U) << all_messages(r);
  EXPECT_EQ(r.problems[0].key, "Backup.backup-lockfile-path");
  EXPECT_TRUE(contains(r.problems[0].message, "backup-lockfile-path = /srv/veeam/locks/.usb-backup-copier.lock"))
      << r.problems[0].message;
}

TEST(ConfigValuesTest, AVeeamLockfilePathNamingADirectoryHoldsTheCoordinationFile) {
  // The older script's form: the same directory in both keys, slashes as they come.
  const ConfigResult same = build(
      "[VEEAM]\nveeam-lockfiles = /var/lock/veeam/\n[Backup]\nveeam-lockfile-path = /var/lock/veeam\n");
  EXPECT_TRUE(same.problems.empty()) << all_messages(same);
  EXPECT_EQ(same.config.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(same.config.veeam_lockfile_path, "/var/lock/veeam/coordination.lock");

  // Alone: an existing directory, a path written with a trailing slash, or any path that
  // is neither an existing file nor ends in ".lock".
  FakeConfigEnvironment env = machine();
  env.directory("/var/lock/veeam");
  const ConfigResult existing = build("[Backup]\nveeam-lockfile-path = /var/lock/veeam\n", env);
  EXPECT_TRUE(existing.problems.empty()) << all_messages(existing);
  EXPECT_EQ(existing.config.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(existing.config.veeam_lockfile_path, "/var/lock/veeam/coordination.lock");
  const ConfigResult slash = build("[Backup]\nveeam-lockfile-path = /var/lock/veeam-new/\n");
  EXPECT_TRUE(slash.problems.empty()) << all_messages(slash);
  EXPECT_EQ(slash.config.veeam_lockfiles, "/var/lock/veeam-new");
  EXPECT_EQ(slash.config.veeam_lockfile_path, "/var/lock/veeam-new/coordination.lock");
  const ConfigResult plain = build("[Backup]\nveeam-lockfile-path = /var/lock/veeam-new\n");
  EXPECT_TRUE(plain.problems.empty()) << all_messages(plain);
  EXPECT_EQ(plain.config.veeam_lockfiles, "/var/lock/veeam-new");

  // A file: an existing one, whatever its name, or a name ending in ".lock".
  env.file("/var/lock/veeam/coordinate", 0644);
  const ConfigResult file = build("[Backup]\nveeam-lockfile-path = /var/lock/veeam/coordinate\n", env);
  EXPECT_TRUE(file.problems.empty()) << all_messages(file);
  EXPECT_EQ(file.config.veeam_lockfiles, "/var/lock/veeam");
  EXPECT_EQ(file.config.veeam_lockfile_path, "/var/lock/veeam/coordinate");
}

TEST(ConfigValuesTest, RefusesTwoDifferentVeeamDirectories) {
  const ConfigResult r = build(
      "[VEEAM]\nveeam-lockfiles = /var/lib/usb-backup-copier/veeam\n[Backup]\n"
      "veeam-lockfile-path = /var/lock/veeam/\n");
  ASSERT_EQ(r.problems.size(), 1U) << all_messages(r);
  EXPECT_EQ(r.problems[0].key, "Backup.veeam-lockfile-path");
  EXPECT_EQ(r.problems[0].line, 12);
  EXPECT_TRUE(contains(r.problems[0].message, "write `veeam-lockfile-path = /var/lib/usb-backup-copier/veeam`"))
      << r.problems[0].message;
}

TEST(ConfigValuesTest, NeverQuotesAPasswordInAnyMessage) {
  const std::string secret = "hunter2-SECRET";
  const char* cases[] = {
      "password = hunter2-SECRET\n",                // world-readable file, no username
      "password = first\n    hunter2-SECRET\n",     // continued over two lines
      "passwort = hunter2-SECRET\n",                // misspelt key
      "password = a\npassword = hunter2-SECRET\n",  // set twice
      "[Backup]\npassword = hunter2-SECRET\n",      // wrong section
      "[Mail]\nusername = u\npassword = hunter2-SECRET\nsecurity = none\n",
  };
  for (const char* more : cases) {
    const ConfigResult r = build(more, machine(0644));
    ASSERT_FALSE(r.problems.empty()) << more;
    EXPECT_FALSE(contains(all_messages(r), secret)) << all_messages(r);
  }
}

TEST(ConfigValuesTest, WarnsAboutPasswordFilesOthersCanRead) {
  FakeConfigEnvironment env = machine();
  env.file("/etc/usb-backup-copier/pw", 0644);
  const ConfigResult r = build("username = u\npassword-file = /etc/usb-backup-copier/pw\n", env);
  EXPECT_FALSE(r.has_errors()) << all_messages(r);
  ASSERT_EQ(r.problems.size(), 1U) << all_messages(r);
  EXPECT_EQ(r.problems[0].line, 10);
  EXPECT_TRUE(contains(r.problems[0].message, "chmod 600 /etc/usb-backup-copier/pw"));
  EXPECT_EQ(r.config.mail_password_file, "/etc/usb-backup-copier/pw");

  const ConfigResult missing = build("username = u\npassword-file = /etc/usb-backup-copier/nope\n");
  ASSERT_EQ(missing.problems.size(), 1U) << all_messages(missing);
  EXPECT_TRUE(missing.has_errors());
}

TEST(ConfigValuesTest, WarnsWhenPortAndSecurityDisagreeOrThePasswordWouldGoUnencrypted) {
  const ConfigResult wrong_port = build("port = 465\n");
  ASSERT_EQ(wrong_port.problems.size(), 1U) << all_messages(wrong_port);
  EXPECT_EQ(wrong_port.problems[0].severity, ConfigProblem::Severity::warning);
  EXPECT_TRUE(contains(wrong_port.problems[0].message, "write `security = tls`"));

  const ConfigResult plain = build("security = none\nusername = u\npassword = p\n");
  ASSERT_EQ(plain.problems.size(), 1U) << all_messages(plain);
  EXPECT_EQ(plain.problems[0].key, "Mail.security");
  EXPECT_FALSE(plain.has_errors());

  const ConfigResult local = build_config(
      kPath, test::parse_ini_text(kValid + "server = localhost\nsecurity = none\n"), machine());
  EXPECT_TRUE(local.problems.empty()) << all_messages(local);
}

TEST(ConfigValuesTest, WarnsWhenVeeamWouldKillTheWaitingHookScript) {
  const ConfigResult r = build("[VEEAM]\nwait-for-backup-minutes = 15\n");
  ASSERT_EQ(r.problems.size(), 1U) << all_messages(r);
  EXPECT_EQ(r.problems[0].severity, ConfigProblem::Severity::warning);
  EXPECT_EQ(r.problems[0].line, 10);
  EXPECT_EQ(r.config.wait_for_backup_minutes, 15);
}

TEST(ConfigValuesTest, ReportsAnUnknownSectionOnceWhateverItHolds) {
  const ConfigResult r = build("[Mial]\nserver = x\nport = 25\n");
  ASSERT_EQ(r.problems.size(), 1U) << all_messages(r);
  EXPECT_EQ(r.problems[0].line, 10);
  EXPECT_TRUE(contains(r.problems[0].message, "did you mean [Mail]?"));
}

TEST(ConfigValuesTest, MissingBackupAndMailSectionsAreTwoProblemsNotSix) {
  const ConfigResult r = build_config(kPath, {}, machine());
  ASSERT_EQ(r.problems.size(), 2U) << all_messages(r);
  EXPECT_EQ(r.problems[0].key, "[Backup]");
  EXPECT_EQ(r.problems[1].key, "[Mail]");
}

TEST(ConfigValuesTest, SuggestsOnlyNamesCloseEnoughToBeTypos) {
  using config_values::nearest;
  const std::vector<std::string_view> keys = {"backup-source", "backup-destination", "server"};
  EXPECT_EQ(nearest("backup_sorce", keys), "backup-source");
  EXPECT_EQ(nearest("BACKUP-DESTINATON", keys), "backup-destination");
  EXPECT_EQ(nearest("sever", keys), "server");
  EXPECT_EQ(nearest("colour", keys), std::nullopt);
}

TEST(ConfigValuesTest, SplitsListsOnCommasAndContinuationLines) {
  const auto items = config_values::split_list(" a , b,,\n\n c ,\n");
  ASSERT_EQ(items.size(), 3U);
  EXPECT_EQ(items[0].text, "a");
  EXPECT_EQ(items[0].line_offset, 0);
  EXPECT_EQ(items[1].text, "b");
  EXPECT_EQ(items[2].text, "c");
  EXPECT_EQ(items[2].line_offset, 2);
}

}  // namespace
}  // namespace ubc
