// SPDX-License-Identifier: MIT
// A real history.db in a temporary directory, written by several processes.
#include "sys/sqlite_history.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "support/forked.h"
#include "support/loop_disk.h"

namespace ubc {
namespace {

JobReport report_for(const std::string& uuid, std::int64_t started, Outcome outcome) {
  JobReport r;
  r.disk = {"/dev/sdz1", uuid, "Monday 'Büro'", "ext4"};
  r.outcome = outcome;
  r.reason = "copied \"everything\"";
  r.started_at = started;
  r.finished_at = started + 3725;
  r.bytes_copied = 5'000'000'000'123ULL;
  r.files_copied = 4711;
  r.free_bytes_after = 987'654'321'000ULL;
  r.warnings = {"disk almost full", "2 files vanished"};
  r.veeam_pauses = 2;
  return r;
}

class SqliteHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("ubc-history");
    state_ = dir_ + "/state";
  }
  void TearDown() override { test::remove_tree(dir_); }

  std::string dir_;
  std::string state_;
};

TEST_F(SqliteHistoryTest, ReadingBeforeTheFirstRunGivesNoRowsAndCreatesNothing) {
  SqliteHistory history(state_);
  EXPECT_TRUE(history.recent(10).empty());
  EXPECT_TRUE(history.last_run_per_disk().empty());
  struct stat st {};
  EXPECT_NE(::stat(state_.c_str(), &st), 0);
}

TEST_F(SqliteHistoryTest, CreatesTheDirectoryAndARowRoundTrips) {
  {
    SqliteHistory history(state_);
    history.record(report_for("0B5E1C2A-7D4F-4C8E-9A61-3F2D8E7C6B5A", 1795000000, Outcome::warning));
  }
  struct stat st {};
  ASSERT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat((state_ + "/history.db").c_str(), &st), 0);

  SqliteHistory reader(state_);  // a fresh connection reads what the first one wrote
  const auto rows = reader.recent(10);
  ASSERT_EQ(rows.size(), 1u);
  const HistoryRow& row = rows.front();
  EXPECT_EQ(row.uuid, "0B5E1C2A-7D4F-4C8E-9A61-3F2D8E7C6B5A");
  EXPECT_EQ(row.label, "Monday 'Büro'");
  EXPECT_EQ(row.started_at, 1795000000);
  EXPECT_EQ(row.finished_at, 1795003725);
  EXPECT_EQ(row.outcome, "warning");
  EXPECT_EQ(row.outcome, to_string(Outcome::warning));
  EXPECT_EQ(row.reason, "copied \"everything\"");
  EXPECT_EQ(row.bytes, 5'000'000'000'123ULL);
  EXPECT_EQ(row.files, 4711u);
  EXPECT_EQ(row.free_bytes_after, 987'654'321'000LL);
  EXPECT_EQ(row.warnings, "disk almost full\n2 files vanished");
}

TEST_F(SqliteHistoryTest, StoresTheColumnsTheRowTypeDoesNotCarry) {
  SqliteHistory history(state_);
  history.record(report_for("ABCD-1234", 1000, Outcome::success));
  // Checked with the sqlite3 command-line tool, as an admin would look.
  std::string out;
  ASSERT_EQ(test::run({"sqlite3", state_ + "/history.db",
                       "SELECT device, duration_seconds, veeam_pauses FROM runs; PRAGMA journal_mode;"},
                      &out),
            0)
      << out << " (the sqlite3 package provides the sqlite3 tool)";
  EXPECT_EQ(out, "/dev/sdz1|3725|2\nwal\n");
}

TEST_F(SqliteHistoryTest, UnknownFreeSpaceReadsBackAsMinusOne) {
  SqliteHistory history(state_);
  JobReport r = report_for("ABCD-1234", 1000, Outcome::failed);
  r.free_bytes_after.reset();
  r.warnings.clear();
  history.record(r);
  const auto rows = history.recent(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].free_bytes_after, -1);
  EXPECT_EQ(rows[0].warnings, "");
  EXPECT_EQ(rows[0].outcome, "failed");
}

TEST_F(SqliteHistoryTest, RecentIsNewestFirstAndLimited) {
  SqliteHistory history(state_);
  for (int i = 0; i < 5; ++i) history.record(report_for("DISK-000" + std::to_string(i), 1000 + i * 100, Outcome::success));
  const auto rows = history.recent(3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].started_at, 1400);
  EXPECT_EQ(rows[1].started_at, 1300);
  EXPECT_EQ(rows[2].started_at, 1200);
  EXPECT_TRUE(history.recent(0).empty());
}

TEST_F(SqliteHistoryTest, LastRunPerDiskKeepsOnlyEachDisksNewestRun) {
  SqliteHistory history(state_);
  history.record(report_for("AAAA-0001", 1000, Outcome::success));
  history.record(report_for("BBBB-0002", 2000, Outcome::failed));
  history.record(report_for("AAAA-0001", 3000, Outcome::warning));
  history.record(report_for("aaaa-0001", 500, Outcome::failed));  // same disk, older run
  history.record(report_for("CCCC-0003", 2500, Outcome::gave_up));
  const auto rows = history.last_run_per_disk();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].uuid, "AAAA-0001");
  EXPECT_EQ(rows[0].started_at, 3000);
  EXPECT_EQ(rows[0].outcome, "warning");
  EXPECT_EQ(rows[1].uuid, "CCCC-0003");
  EXPECT_EQ(rows[1].outcome, to_string(Outcome::gave_up));
  EXPECT_EQ(rows[2].uuid, "BBBB-0002");
}

TEST_F(SqliteHistoryTest, AnUnwritableStateDirectoryThrows) {
  test::write_file(state_, "a file where the directory should be");
  SqliteHistory history(state_);
  EXPECT_THROW(history.record(report_for("ABCD-1234", 1, Outcome::success)), std::system_error);
}

TEST_F(SqliteHistoryTest, ASymlinkedDatabaseIsRefused) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0750), 0);
  ASSERT_EQ(::symlink((dir_ + "/elsewhere.db").c_str(), (state_ + "/history.db").c_str()), 0);
  SqliteHistory history(state_);
  EXPECT_THROW(history.record(report_for("ABCD-1234", 1, Outcome::success)), std::system_error);
  struct stat st {};
  EXPECT_NE(::stat((dir_ + "/elsewhere.db").c_str(), &st), 0);
}

TEST_F(SqliteHistoryTest, ProcessesWritingAtTheSameTimeAllSucceed) {
  // The copier, a second copier and a reader (web page) use the file together; none may
  // fail with "database is locked". The first writers race to create the schema too.
  constexpr int kProcesses = 4;
  constexpr int kRowsEach = 50;
  const auto codes = test::run_in_children(kProcesses, [&](int p) {
    try {
      SqliteHistory history(state_);
      for (int i = 0; i < kRowsEach; ++i) {
        history.record(report_for("DISK-" + std::to_string(p), 1000 * p + i, Outcome::success));
        if (i % 10 == 0) (void)history.last_run_per_disk();
      }
    } catch (const std::exception& e) {
      (void)!::write(2, e.what(), std::strlen(e.what()));
      return 1;
    }
    return 0;
  });
  for (const int code : codes) EXPECT_EQ(code, 0) << "a writer failed";
  SqliteHistory history(state_);
  EXPECT_EQ(history.recent(10000).size(), static_cast<std::size_t>(kProcesses * kRowsEach));
  EXPECT_EQ(history.last_run_per_disk().size(), static_cast<std::size_t>(kProcesses));
}

}  // namespace
}  // namespace ubc
