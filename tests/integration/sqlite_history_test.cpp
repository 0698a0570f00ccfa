// SPDX-License-Identifier: MIT
// A real history.db in a temporary directory, written by several processes.
#include "sys/sqlite_history.h"

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/history_log.h"
#include "support/copy_fixture.h"
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

// A database as schema version 1 left it (before run logs were kept), with one run.
void make_version_1_database(const std::string& state) {
  ASSERT_EQ(::mkdir(state.c_str(), 0750), 0);
  std::string out;
  ASSERT_EQ(test::run({"sqlite3", state + "/history.db",
                       "PRAGMA journal_mode=WAL;"
                       "CREATE TABLE runs (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL COLLATE NOCASE,"
                       " label TEXT NOT NULL DEFAULT '', device TEXT NOT NULL DEFAULT '',"
                       " started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, outcome TEXT NOT NULL,"
                       " reason TEXT NOT NULL DEFAULT '', bytes INTEGER NOT NULL DEFAULT 0,"
                       " files INTEGER NOT NULL DEFAULT 0, duration_seconds INTEGER NOT NULL DEFAULT 0,"
                       " free_bytes_after INTEGER, warnings TEXT NOT NULL DEFAULT '',"
                       " veeam_pauses INTEGER NOT NULL DEFAULT 0, action TEXT NOT NULL DEFAULT 'copy',"
                       " verified_files INTEGER, verified_bytes INTEGER, verify_mismatches INTEGER,"
                       " verify_seconds INTEGER);"
                       "CREATE INDEX runs_by_disk ON runs (uuid, started_at);"
                       "INSERT INTO runs (uuid, label, started_at, finished_at, outcome, bytes, action,"
                       " verified_files, verified_bytes, verify_mismatches, verify_seconds)"
                       " VALUES ('OLD-0001', 'old', 100, 200, 'success', 77, 'copy', 1, 77, 0, 3);"
                       "PRAGMA user_version = 1;"},
                      &out),
            0)
      << out;
}

std::string user_version(const std::string& state) {
  std::string out;
  (void)test::run({"sqlite3", state + "/history.db", "PRAGMA user_version;"}, &out);
  return out;
}

TEST_F(SqliteHistoryTest, StoresTheRunsLogAndReadsItBackById) {
  SqliteHistory history(state_);
  JobReport r = report_for("ABCD-1234", 1000, Outcome::success);
  r.run_log = "12:00:01 info: Run started\n12:00:09 info: Run ended: success\n";
  history.record(r);
  history.record(report_for("ABCD-1234", 2000, Outcome::failed));  // no log
  const auto rows = history.recent(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_GT(rows[1].id, 0);
  EXPECT_NE(rows[0].id, rows[1].id);
  EXPECT_EQ(SqliteHistory(state_, HistoryAccess::read_only).run_log(rows[1].id), r.run_log);
  EXPECT_EQ(history.run_log(rows[0].id), std::nullopt) << "recorded without a log";
  EXPECT_EQ(history.run_log(rows[0].id + 100), std::nullopt) << "no such run";
}

TEST_F(SqliteHistoryTest, AHugeLogIsStoredCappedWithItsHeadAndTail) {
  SqliteHistory history(state_);
  JobReport r = report_for("ABCD-1234", 1000, Outcome::failed);
  r.run_log = "FIRST LINE\n";
  while (r.run_log.size() < 5 * kMaxStoredRunLog / 2) r.run_log += "rsync: the same error once more\n";
  r.run_log += "LAST LINE\n";
  history.record(r);
  const auto log = history.run_log(history.recent(1).at(0).id);
  ASSERT_TRUE(log);
  EXPECT_EQ(*log, cap_run_log(r.run_log));
  EXPECT_LT(log->size(), kMaxStoredRunLog + 100);
  EXPECT_EQ(log->rfind("FIRST LINE\n", 0), 0u);
  EXPECT_TRUE(log->ends_with("LAST LINE\n"));
  EXPECT_NE(log->find(" bytes left out ...]\n"), std::string::npos);
}

TEST_F(SqliteHistoryTest, AVersion1DatabaseIsReadAsItIsAndMigratedByTheNextRecord) {
  make_version_1_database(state_);
  {
    // A reader changes nothing: the columns it lacks read as empty.
    SqliteHistory reader(state_, HistoryAccess::read_only);
    const auto rows = reader.recent(10);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].uuid, "OLD-0001");
    ASSERT_TRUE(rows[0].verification);
    EXPECT_EQ(rows[0].verification->bytes, 77u);
    EXPECT_EQ(reader.run_log(rows[0].id), std::nullopt);
    EXPECT_EQ(reader.last_success_per_disk().size(), 1u);
  }
  EXPECT_EQ(user_version(state_), "1\n");
  SqliteHistory history(state_);
  JobReport r = report_for("NEW-0002", 1000, Outcome::success);
  r.run_log = "a log\n";
  history.record(r);
  EXPECT_EQ(user_version(state_), "3\n") << "brought up to the newest schema";
  const auto rows = history.recent(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].uuid, "NEW-0002");
  EXPECT_EQ(history.run_log(rows[0].id), "a log\n");
  EXPECT_EQ(rows[1].uuid, "OLD-0001");
  EXPECT_EQ(history.run_log(rows[1].id), std::nullopt);
}

TEST_F(SqliteHistoryTest, LastSuccessPerDiskSkipsFailuresAndVerifications) {
  SqliteHistory history(state_);
  history.record(report_for("AAAA-0001", 1000, Outcome::success));
  history.record(report_for("AAAA-0001", 2000, Outcome::warning));
  history.record(report_for("AAAA-0001", 3000, Outcome::failed));
  JobReport verify = report_for("AAAA-0001", 4000, Outcome::success);
  verify.action = JobAction::verify;
  history.record(verify);
  history.record(report_for("BBBB-0002", 1500, Outcome::aborted));
  const auto rows = history.last_success_per_disk();
  ASSERT_EQ(rows.size(), 1u) << "BBBB-0002 never had a good copy";
  EXPECT_EQ(rows[0].uuid, "AAAA-0001");
  EXPECT_EQ(rows[0].started_at, 2000);
  EXPECT_EQ(rows[0].outcome, "warning");
  EXPECT_EQ(history.last_run_per_disk().at(0).action, "verify") << "the newest run is not the last good copy";
}

TEST_F(SqliteHistoryTest, LastVerificationPerDiskIsTheNewestRunThatReadFilesBack) {
  SqliteHistory history(state_);
  JobReport copied = report_for("AAAA-0001", 1000, Outcome::success);
  copied.verification = VerificationReport{};
  copied.verification->files_checked = 7;
  copied.verification->bytes_read = 700;
  history.record(copied);
  JobReport checked = report_for("AAAA-0001", 2000, Outcome::failed);
  checked.action = JobAction::verify;
  checked.verification = VerificationReport{};
  checked.verification->files_checked = 9;
  checked.verification->mismatches = 1;
  history.record(checked);
  history.record(report_for("AAAA-0001", 3000, Outcome::failed));  // stopped before reading back
  history.record(report_for("BBBB-0002", 1500, Outcome::success));  // verify = none
  const auto rows = history.last_verification_per_disk();
  ASSERT_EQ(rows.size(), 1u) << "BBBB-0002 never read anything back";
  EXPECT_EQ(rows[0].started_at, 2000);
  EXPECT_EQ(rows[0].action, "verify");
  ASSERT_TRUE(rows[0].verification);
  EXPECT_EQ(rows[0].verification->files, 9u);
  EXPECT_EQ(rows[0].verification->mismatches, 1u);
}

// A writer killed in the middle of a transaction (power cut, OOM killer) leaves the
// history as it was before that transaction: WAL and atomic commits, nothing half-written.
TEST_F(SqliteHistoryTest, AWriterKilledMidTransactionLeavesTheHistoryWhole) {
  {
    SqliteHistory history(state_);
    history.record(report_for("AAAA-0001", 1000, Outcome::success));
    history.record(report_for("AAAA-0001", 2000, Outcome::failed));
  }
  const std::string db = state_ + "/history.db";
  test::ChildProcess writer({"python3", "-c",
                       "import sqlite3, sys, time\n"
                       "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                       "c.execute('BEGIN IMMEDIATE')\n"
                       "c.execute('DELETE FROM runs')\n"
                       "for i in range(1000):\n"
                       "    c.execute(\"INSERT INTO runs (uuid, started_at, finished_at, outcome) VALUES ('BBBB-0002', ?, ?, 'success')\", (i, i))\n"
                       "print('mid-transaction', flush=True)\n"
                       "time.sleep(3600)\n",
                       db});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // safety net
  while (writer.output_so_far().find("mid-transaction") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline && writer.running())
    test::poll_pause();
  ASSERT_NE(writer.output_so_far().find("mid-transaction"), std::string::npos) << writer.output_so_far();
  writer.signal(SIGKILL);
  ASSERT_TRUE(writer.wait(std::chrono::seconds(60)));

  SqliteHistory history(state_);
  const auto rows = history.recent(10);
  ASSERT_EQ(rows.size(), 2u) << "the killed transaction left nothing behind";
  EXPECT_EQ(rows[0].uuid, "AAAA-0001");
  history.record(report_for("AAAA-0001", 3000, Outcome::success));  // and it takes new runs
  EXPECT_EQ(history.recent(10).size(), 3u);
  const test::CopierResult check = test::run_program({"sqlite3", db, "PRAGMA integrity_check;"});
  EXPECT_EQ(check.output, "ok\n");
}

TEST_F(SqliteHistoryTest, AReadOnlyHistoryRefusesToRecord) {
  SqliteHistory reader(state_, HistoryAccess::read_only);
  EXPECT_THROW(reader.record(report_for("ABCD-1234", 1, Outcome::success)), std::logic_error);
  struct stat st {};
  EXPECT_NE(::stat(state_.c_str(), &st), 0) << "nothing was created";
}

// The web service's case: a user that may read the state directory (by its group) but
// write nothing in it, while the copier has the database open and after it closed it.
TEST_F(SqliteHistoryTest, AnUnprivilegedReaderInTheDirectorysGroupReadsTheHistory) {
  const gid_t group = 65534;  // nogroup; the reader runs as nobody in it
  ASSERT_EQ(::mkdir(state_.c_str(), 0750), 0);
  ASSERT_EQ(::chown(state_.c_str(), 0, group), 0);
  ASSERT_EQ(::chmod(state_.c_str(), 02750), 0);  // files made inside take its group
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const mode_t old_umask = ::umask(0077);  // as under the copier's unit
  auto read_as_nobody = [&](std::size_t expected_rows) {
    const auto codes = test::run_in_children(1, [&](int) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(group) != 0 || ::setuid(65534) != 0) return 3;
      try {
        SqliteHistory reader(state_, HistoryAccess::read_only);
        const auto rows = reader.recent(10);
        if (rows.size() != expected_rows) return 4;
        if (reader.run_log(rows.front().id) != std::optional<std::string>("log\n")) return 5;
        return 0;
      } catch (const std::exception& e) {
        (void)!::write(2, e.what(), std::strlen(e.what()));
        return 1;
      }
    });
    return codes.at(0);
  };
  JobReport r = report_for("ABCD-1234", 1000, Outcome::success);
  r.run_log = "log\n";
  {
    SqliteHistory writer(state_);
    writer.record(r);
    EXPECT_EQ(read_as_nobody(1), 0) << "while the copier has it open";
    r.started_at = 2000;
    writer.record(r);
  }
  EXPECT_EQ(read_as_nobody(2), 0) << "after the copier closed it";
  ::umask(old_umask);
  for (const char* name : {"/history.db", "/history.db-wal", "/history.db-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat((state_ + name).c_str(), &st), 0) << name << " is kept for readers";
    EXPECT_EQ(st.st_mode & 0777, 0640u) << name;
    EXPECT_EQ(st.st_gid, group) << name;
  }
}

TEST_F(SqliteHistoryTest, AReaderThatCannotFindTheWalFilesSaysWhichItNeeds) {
  // Made by another program (the sqlite3 tool), which deletes -wal and -shm on close.
  make_version_1_database(state_);
  ASSERT_EQ(::chmod(state_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((state_ + "/history.db").c_str(), 0644), 0);
  const auto codes = test::run_in_children(1, [&](int) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 3;
    try {
      (void)SqliteHistory(state_, HistoryAccess::read_only).recent(1);
      return 0;
    } catch (const std::system_error& e) {
      return std::string(e.what()).find("needs history.db-wal and history.db-shm") != std::string::npos ? 7 : 1;
    }
  });
  EXPECT_EQ(codes.at(0), 7) << "a clear error, not rows and not another failure";
}

constexpr std::int64_t kDay = 24 * 60 * 60;

std::vector<std::int64_t> started_ats(History& history) {
  std::vector<std::int64_t> out;
  for (const HistoryRow& row : history.recent(100)) out.push_back(row.started_at);
  return out;
}

// A database as schema version 2 left it (before restore points were recorded).
void make_version_2_database(const std::string& state) {
  make_version_1_database(state);
  std::string out;
  ASSERT_EQ(test::run({"sqlite3", state + "/history.db",
                       "ALTER TABLE runs ADD COLUMN run_log TEXT;"
                       "UPDATE runs SET run_log = 'old log';"
                       "PRAGMA user_version = 2;"},
                      &out),
            0)
      << out;
}

JobReport with_points(JobReport r, std::vector<RestorePoint> points) {
  r.restore_points = std::move(points);
  return r;
}

TEST_F(SqliteHistoryTest, AVersion2DatabaseHasNoRestorePointsUntilTheNextRecordMigratesIt) {
  make_version_2_database(state_);
  {
    SqliteHistory reader(state_, HistoryAccess::read_only);
    EXPECT_TRUE(reader.restore_points_per_disk().empty());
    ASSERT_EQ(reader.recent(10).size(), 1u);
    EXPECT_EQ(reader.run_log(reader.recent(10)[0].id), "old log");
  }
  EXPECT_EQ(user_version(state_), "2\n");
  SqliteHistory history(state_);
  const RestorePoint a{"2026-11-28T020000Z", 1795831200, 10, 3ULL << 30, true};
  history.record(with_points(report_for("NEW-0002", 1000, Outcome::success), {a}));
  EXPECT_EQ(user_version(state_), "3\n");
  const auto disks = SqliteHistory(state_, HistoryAccess::read_only).restore_points_per_disk();
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].uuid, "NEW-0002");
  EXPECT_EQ(disks[0].seen_at, 1000 + 3725);
  EXPECT_EQ(disks[0].points, std::vector<RestorePoint>{a});
  EXPECT_EQ(history.recent(10).size(), 2u) << "the old run is still there";
}

TEST_F(SqliteHistoryTest, EachDisksRestorePointsAreThoseItsNewestRunThatSawThemRecorded) {
  SqliteHistory history(state_, HistoryAccess::read_write, 10);
  const RestorePoint a{"2026-11-27T020000Z", 1795744800, 10, 3ULL << 30, true};
  const RestorePoint b{"2026-11-28T020000Z", 1795831200, 11, 4ULL << 30, false};
  history.record(with_points(report_for("AAAA-0001", 1 * kDay, Outcome::success), {a}));
  // Neither the disk's newest run nor its newest good copy: kept for its list all the same.
  JobReport verify = with_points(report_for("AAAA-0001", 2 * kDay, Outcome::failed), {a, b});
  verify.action = JobAction::verify;
  history.record(verify);
  // A run that never reached the disk saw nothing: the list stays, also when old runs are pruned.
  history.record(report_for("AAAA-0001", 90 * kDay, Outcome::failed));
  history.record(report_for("BBBB-0002", 95 * kDay, Outcome::success));  // a mirror
  const auto disks = history.restore_points_per_disk();
  ASSERT_EQ(disks.size(), 1u);
  EXPECT_EQ(disks[0].uuid, "AAAA-0001");
  EXPECT_EQ(disks[0].seen_at, 2 * kDay + 3725);
  EXPECT_EQ(disks[0].points, (std::vector<RestorePoint>{a, b}));
}

TEST_F(SqliteHistoryTest, OldRunsArePrunedWithTheirLogsButEachDisksNewestGoodCopyStays) {
  SqliteHistory history(state_, HistoryAccess::read_write, 10);
  history.record(report_for("AAAA-0001", 1 * kDay, Outcome::success));
  JobReport logged = report_for("AAAA-0001", 2 * kDay, Outcome::failed);
  logged.run_log = "12:00:01 info: Run started\n";
  history.record(logged);
  history.record(report_for("BBBB-0002", 3 * kDay, Outcome::failed));
  history.record(report_for("BBBB-0002", 5 * kDay, Outcome::success));
  history.record(report_for("BBBB-0002", 95 * kDay, Outcome::failed));
  // Until A runs again, its old runs are its newest run and its newest good copy.
  EXPECT_EQ(started_ats(history), (std::vector<std::int64_t>{95 * kDay, 5 * kDay, 2 * kDay, 1 * kDay}));
  const std::int64_t logged_id = history.recent(100)[2].id;
  ASSERT_EQ(history.run_log(logged_id), logged.run_log);

  history.record(report_for("AAAA-0001", 100 * kDay, Outcome::warning));
  // B's good copy of day 5 is 95 days old but still the one a restore relies on.
  EXPECT_EQ(started_ats(history), (std::vector<std::int64_t>{100 * kDay, 95 * kDay, 5 * kDay}));
  EXPECT_EQ(history.run_log(logged_id), std::nullopt) << "the log goes with its run";
  SqliteHistory reader(state_, HistoryAccess::read_only);
  const auto good = reader.last_success_per_disk();
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[1].uuid, "BBBB-0002");
  EXPECT_EQ(good[1].started_at, 5 * kDay);
}

TEST_F(SqliteHistoryTest, KeepDaysZeroKeepsEveryRun) {
  SqliteHistory history(state_, HistoryAccess::read_write, 0);
  history.record(report_for("AAAA-0001", 1 * kDay, Outcome::failed));
  history.record(report_for("AAAA-0001", 2 * kDay, Outcome::success));
  history.record(report_for("AAAA-0001", 5000 * kDay, Outcome::success));
  EXPECT_EQ(started_ats(history), (std::vector<std::int64_t>{5000 * kDay, 2 * kDay, 1 * kDay}));
}

}  // namespace
}  // namespace ubc
