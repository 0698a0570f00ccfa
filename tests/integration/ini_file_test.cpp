// SPDX-License-Identifier: MIT
// read_ini_file with the real inih on fixture files and files written here: line numbers,
// continuation lines, comments, lines inih rejects, long lines, unreadable files. Needs no
// root. Also checks that the unit tests' INI reader agrees with it on every config fixture.
#include "sys/ini_file.h"

#include <gtest/gtest.h>
#include <ini.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../unit/fakes/fake_ini_reader.h"

namespace ubc {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = UBC_SOURCE_DIR "/tests/unit/fixtures/config/";

class IniFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ubc-ini-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

std::string problems_of(const IniFile& file) {
  std::string out;
  for (const ConfigProblem& p : file.problems) out += format_problem("ini", p) + "\n";
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(IniFileTest, GivesEveryEntryItsLineAndReportsEveryLineThatIsNotIni) {
  const IniFile file = read_ini_file(kFixtures + "ini_syntax.ini");
  ASSERT_EQ(file.entries.size(), 4U);
  EXPECT_EQ(file.entries[0].section, "Backup");
  EXPECT_EQ(file.entries[0].key, "backup-source");
  EXPECT_EQ(file.entries[0].value, "/srv/veeam");
  EXPECT_EQ(file.entries[0].line, 3);
  // "[Mail" on line 5 is no header: the key stays in [Backup].
  EXPECT_EQ(file.entries[1].section, "Backup");
  EXPECT_EQ(file.entries[1].key, "server");
  EXPECT_EQ(file.entries[1].line, 6);
  EXPECT_EQ(file.entries[2].key, "Key");  // as written; build_config ignores case
  EXPECT_EQ(file.entries[2].value, "value after a colon");
  EXPECT_EQ(file.entries[2].line, 7);
  // Section names are trimmed; an indented first key of a section is a key, not a
  // continuation; the inline comment is gone.
  EXPECT_EQ(file.entries[3].section, "Webserver");
  EXPECT_EQ(file.entries[3].key, "webport");
  EXPECT_EQ(file.entries[3].value, "8080");
  EXPECT_EQ(file.entries[3].line, 9);

  ASSERT_EQ(file.problems.size(), 2U) << problems_of(file);
  EXPECT_EQ(file.problems[0].line, 4);
  EXPECT_TRUE(contains(file.problems[0].message, "neither `key = value`"));
  EXPECT_EQ(file.problems[1].line, 5);
  EXPECT_TRUE(contains(file.problems[1].message, "no closing ']'"));
}

TEST_F(IniFileTest, MergesContinuationLinesKeepingOneLineBreakPerPhysicalLine) {
  const IniFile file = read_ini_file(kFixtures + "disks_continuation.ini");
  EXPECT_TRUE(file.problems.empty()) << problems_of(file);
  ASSERT_GE(file.entries.size(), 1U);
  const IniEntry& disks = file.entries[0];
  EXPECT_EQ(disks.key, "filesystem-ids-and-notification-mail-addresses");
  EXPECT_EQ(disks.line, 4);
  // Lines 5..10; the comment on line 6 and the blank line 8 stay as empty lines, and the
  // inline comment on line 9 is stripped as on a first line.
  EXPECT_EQ(disks.value,
            "\n0a1b2c3d-4e5f-6789-abcd-ef0123456789, alice@example.com,\n\n1A2B-3C4D,\n\n"
            "0123456789ABCDEF, bob@example.com\nfedcba98-7654-3210-fedc-ba9876543210");
  EXPECT_EQ(file.entries[1].key, "backup-source");
  EXPECT_EQ(file.entries[1].line, 11);
}

TEST_F(IniFileTest, ReadsWindowsLineEndingsAndAByteOrderMark) {
  const std::string path = write("crlf.ini",
                                 "\xEF\xBB\xBF[Backup]\r\nbackup-source = /srv/veeam\r\n"
                                 "filesystem-ids-and-notification-mail-addresses = 1A2B-3C4D,\r\n"
                                 "  0123456789ABCDEF\r\n");
  const IniFile file = read_ini_file(path);
  EXPECT_TRUE(file.problems.empty()) << problems_of(file);
  ASSERT_EQ(file.entries.size(), 2U);
  EXPECT_EQ(file.entries[0].section, "Backup");
  EXPECT_EQ(file.entries[0].value, "/srv/veeam");
  EXPECT_EQ(file.entries[1].value, "1A2B-3C4D,\n0123456789ABCDEF");
  EXPECT_EQ(file.entries[1].line, 3);
}

TEST_F(IniFileTest, ReadsLinesFarLongerThanInihsDefaultBuffer) {
  std::string list;
  for (int i = 0; i < 60; ++i) {
    list += (i ? ", " : "") + std::string("0a1b2c3d-4e5f-6789-abcd-ef01234567") +
            (i < 10 ? "0" : "") + std::to_string(i);
  }
  ASSERT_GT(list.size(), 2000U);
  const IniFile file =
      read_ini_file(write("long.ini", "[Backup]\nlist = " + list + "\nnext = 1\n"));
  EXPECT_TRUE(file.problems.empty()) << problems_of(file);
  ASSERT_EQ(file.entries.size(), 2U);
  EXPECT_EQ(file.entries[0].value, list);
  EXPECT_EQ(file.entries[1].key, "next");
  EXPECT_EQ(file.entries[1].line, 3);
}

TEST_F(IniFileTest, ReportsALineTooLongToReadAndGoesOn) {
  const IniFile file = read_ini_file(
      write("huge.ini", "[Backup]\nlist = " + std::string(5000, 'x') + "\nnext = 1\n"));
  ASSERT_EQ(file.problems.size(), 1U) << problems_of(file);
  EXPECT_EQ(file.problems[0].line, 2);
  EXPECT_TRUE(contains(file.problems[0].message, "longer than 4096 characters"));
  ASSERT_EQ(file.entries.size(), 1U);
  EXPECT_EQ(file.entries[0].key, "next");
  EXPECT_EQ(file.entries[0].line, 3);
}

TEST_F(IniFileTest, LeavesInihsLineLimitAsItWas) {
  const int before = ini_max_line;
  (void)read_ini_file(kFixtures + "minimal.ini");
  EXPECT_EQ(ini_max_line, before);
}

TEST_F(IniFileTest, AMissingFileIsAProblemThatSaysWhatToDo) {
  const IniFile file = read_ini_file(dir_ + "/absent.ini");
  EXPECT_TRUE(file.entries.empty());
  ASSERT_EQ(file.problems.size(), 1U);
  EXPECT_EQ(file.problems[0].line, 0);
  EXPECT_TRUE(contains(file.problems[0].message, "No such file or directory"));
  EXPECT_TRUE(contains(file.problems[0].message, "--config PATH"));
}

TEST_F(IniFileTest, ADirectoryIsAProblemNotAnException) {
  const IniFile file = read_ini_file(dir_);
  ASSERT_EQ(file.problems.size(), 1U);
  EXPECT_TRUE(contains(file.problems[0].message, "is a directory"));
}

TEST_F(IniFileTest, AnUnreadableFileIsAProblemThatSaysWhatToDo) {
  const std::string path = write("secret.ini", "[Backup]\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  const auto refused = [&] {
    const IniFile file = read_ini_file(path);
    return file.problems.size() == 1 && file.entries.empty() &&
           contains(file.problems[0].message, "Permission denied") &&
           contains(file.problems[0].message, "run the command as root");
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(refused());
    return;
  }
  // Root reads every file: ask as user nobody in a child process.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(refused() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: could not become nobody; 1: wrong answer";
}

// The unit tests read the same fixtures with a small reader of their own; it must see
// exactly what inih sees, or their line numbers would prove nothing.
TEST_F(IniFileTest, TheUnitTestsReaderAgreesWithInihOnEveryConfigFixture) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(kFixtures)) {
    if (entry.path().extension() != ".ini") continue;
    const IniFile real = read_ini_file(entry.path());
    const auto fake = test::parse_ini_text(test::read_text_file(entry.path()));
    ASSERT_EQ(real.entries.size(), fake.size()) << entry.path();
    for (std::size_t i = 0; i < fake.size(); ++i) {
      EXPECT_EQ(real.entries[i].section, fake[i].section) << entry.path() << " #" << i;
      EXPECT_EQ(real.entries[i].key, fake[i].key) << entry.path() << " #" << i;
      EXPECT_EQ(real.entries[i].value, fake[i].value) << entry.path() << " #" << i;
      EXPECT_EQ(real.entries[i].line, fake[i].line) << entry.path() << " #" << i;
    }
    ++checked;
  }
  EXPECT_GE(checked, 30);
  const std::string tmpl = UBC_SOURCE_DIR "/config.ini.template";
  EXPECT_EQ(read_ini_file(tmpl).entries.size(),
            test::parse_ini_text(test::read_text_file(tmpl)).size());
}

}  // namespace
}  // namespace ubc
