// SPDX-License-Identifier: MIT
// The mail password for real: a whole copy with an SMTP server that requires it, then every
// place a password could leak is searched for it — the copier's output and log file, rsync's
// log, `status --json`, the mails as received, the history database (run logs included),
// the state and runtime directories, the disk's image, and the command line of every
// process while the copy runs. A config others can read is a warning in check-config and in
// the run's report; with security-strict = yes it is refused.
#include <dirent.h>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/copy_fixture.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPassword = "Zebra-Quartz-4711-pw";

CopyFixtureOptions with_password() {
  CopyFixtureOptions o;
  o.disk_mib = 200;
  o.smtp_username = "copier";
  o.smtp_password = kPassword;
  return o;
}

// Every command line on the machine, NULs turned into spaces; the test's own SMTP server
// (given the password to check logins against) left out.
std::string all_command_lines() {
  std::string out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    try {
      cmdline = read_file(entry.path().string() + "/cmdline");
    } catch (const std::exception&) {
      continue;  // ended meanwhile
    }
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find("support/smtp_server.py") != std::string::npos) continue;
    out += name + ": " + cmdline + "\n";
  }
  return out;
}

// path: each regular file below it (or path itself) that holds the password.
std::vector<std::string> files_holding_password(const std::string& path) {
  std::vector<std::string> found;
  const auto check = [&](const fs::path& p) {
    if (fs::is_regular_file(fs::symlink_status(p)) && read_file(p.string()).find(kPassword) != std::string::npos)
      found.push_back(p.string());
  };
  if (!fs::exists(path)) return found;
  if (!fs::is_directory(path)) {
    check(path);
    return found;
  }
  for (const auto& e : fs::recursive_directory_iterator(path)) check(e.path());
  return found;
}

TEST(SecretsTest, ThePasswordAppearsNowhereAfterARealRunAndAReadableConfigIsReported) {
  CopyFixture f(with_password());
  for (int i = 0; i < 3; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 16u << 20, i + 1);
  ASSERT_EQ(::chmod(f.config_path().c_str(), 0644), 0);

  const CopierResult check = f.copier({"check-config"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("Mail.password: warning: this file holds the mail password and is readable by every user"));
  EXPECT_THAT(check.output, HasSubstr("chmod 600 " + f.config_path()));

  auto copier = f.start_copy();
  // While rsync runs (held stopped), no command line on the machine holds the password.
  {
    RsyncFreezer freezer(copier->pid());
    ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
    const std::string lines = all_command_lines();
    EXPECT_THAT(lines, HasSubstr("--info=progress2")) << "the copy rsync is among them";
    EXPECT_THAT(lines, Not(HasSubstr(kPassword)));
    const CopierResult status = f.copier({"status", "--json"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_THAT(status.output, Not(HasSubstr(kPassword)));
    freezer.resume();
  }
  const auto done = copier->wait(120s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->exit_code, 0) << done->output;
  EXPECT_THAT(done->output, Not(HasSubstr(kPassword)));

  // The mails went out through the login, and the report says the config is readable.
  const auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_THAT(field(mails.back(), "body"), HasSubstr("this file holds the mail password and is readable by every user"));
  for (const std::string& envelope : f.smtp()->envelopes())
    EXPECT_EQ(field(*parse_json_object(envelope), "login"), "copier") << envelope;
  for (const std::string& raw : f.smtp()->messages()) EXPECT_THAT(raw, Not(HasSubstr(kPassword)));
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "warning");
  EXPECT_THAT(rows[0].warnings, HasSubstr("readable by every user"));

  std::string dump;
  ASSERT_EQ(run({"sqlite3", "-readonly", f.state_dir() + "/history.db", ".dump"}, &dump), 0) << dump;
  EXPECT_THAT(dump, HasSubstr("readable by every user")) << "the stored run log is in the dump";
  EXPECT_THAT(dump, Not(HasSubstr(kPassword)));
  EXPECT_THAT(f.copier({"status", "--json"}).output, Not(HasSubstr(kPassword)));
  for (const std::string& place : {f.log_file(), f.rsync_log(), f.state_dir(), f.runtime_dir(), f.disk().image()})
    EXPECT_EQ(files_holding_password(place), std::vector<std::string>{}) << place;
}

TEST(SecretsTest, SecurityStrictRefusesAReadablePasswordUntilTheFileIsPrivate) {
  CopyFixtureOptions o = with_password();
  o.disk_mib = 64;
  o.backup_lines = {"security-strict = yes"};
  CopyFixture f(o);
  make_file(f.source() + "/a.vbk", 1u << 20, 1);
  ASSERT_EQ(::chmod(f.config_path().c_str(), 0640), 0) << "readable by the group only: allowed";
  EXPECT_EQ(f.copier({"check-config"}).exit_code, 0);
  ASSERT_EQ(::chmod(f.config_path().c_str(), 0604), 0);

  const CopierResult check = f.copier({"check-config"});
  EXPECT_EQ(check.exit_code, 78) << check.output;
  EXPECT_THAT(check.output, HasSubstr("chmod 600 " + f.config_path()));
  EXPECT_THAT(check.output, HasSubstr("password-file"));
  EXPECT_THAT(check.output, Not(HasSubstr(kPassword)));
  const auto before = whole_disk(f.disk());
  const CopierResult r = f.copy();
  EXPECT_EQ(r.exit_code, 78) << r.output;
  EXPECT_THAT(r.output, HasSubstr("security-strict = yes"));
  EXPECT_THAT(r.output, Not(HasSubstr(kPassword)));
  expect_disk_untouched(before, f.disk());

  ASSERT_EQ(::chmod(f.config_path().c_str(), 0600), 0);
  EXPECT_EQ(f.copy().exit_code, 0);
}

}  // namespace
}  // namespace ubc::test
