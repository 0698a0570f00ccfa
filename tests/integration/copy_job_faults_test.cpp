// SPDX-License-Identifier: MIT
// The built copier when what surrounds it breaks, for real on a loop-device disk: a run
// history that is garbage or held locked by another program (a warning, never a failed
// copy or an incomplete disk), and the copier itself SIGKILLed mid-copy (its rsync must
// not live on).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <filesystem>
#include <random>
#include <thread>

#include "sys/sqlite_history.h"
#include "support/copy_fixture.h"
#include "support/orphan_reaper.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

void make_small_tree(const std::string& src) {
  make_file(src + "/Jobs/Nightly.vbk", 3u << 20, 1);
  make_file(src + "/Jobs/Nightly-1.vib", 700000, 2);
  make_file(src + "/Jobs/Nightly.vbm", 12345, 3);
}

void expect_disk_equals_source(CopyFixture& f) {
  DiskView view(f.disk());
  const auto differences = tree_differences(scan_tree(f.source(), {".usb-backup-copier.lock"}),
                                            scan_tree(view.path(), disk_own_entries()));
  EXPECT_TRUE(differences.empty()) << differences.front();
}

// What a run with a broken history must still leave: a complete disk, released, and an
// end mail whose body or attached log names the history.
void expect_complete_with_history_warning(CopyFixture& f, const CopierResult& r) {
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto state = f.disk_state();
  ASSERT_TRUE(state);
  EXPECT_EQ(field(*state, "state"), "complete");
  EXPECT_TRUE(f.disk_released());
  EXPECT_FALSE(fs::exists(f.lock_file()));
  expect_disk_equals_source(f);
  const auto mails = f.wait_for_mails(2);
  ASSERT_EQ(mails.size(), 2u) << r.output;
  EXPECT_THAT(field(mails[0], "subject"), HasSubstr("copy started"));
  EXPECT_THAT(field(mails[1], "subject"), HasSubstr(": WARNING"));
  EXPECT_THAT(field(mails[1], "body"), HasSubstr("The copy is complete"));
  EXPECT_THAT(field(mails[1], "body") + field(mails[1], "attachment"), HasSubstr("run history"));
}

TEST(CopyJobFaults, AHistoryDatabaseOfGarbageIsAWarningAndTheCopyCompletes) {
  CopyFixture f;
  make_small_tree(f.source());
  fs::create_directories(f.state_dir());
  std::string garbage(64 * 1024, '\0');
  std::mt19937 random(42);
  for (char& c : garbage) c = static_cast<char>(random());
  write_file(f.state_dir() + "/history.db", garbage);

  const CopierResult r = f.copy();
  expect_complete_with_history_warning(f, r);
  EXPECT_THAT(r.output, HasSubstr("Could not read the run history"));
  EXPECT_THAT(r.output, HasSubstr("This run could not be recorded in the run history"));
  // The admin's database is left as it was, to be looked at.
  EXPECT_EQ(read_file(f.state_dir() + "/history.db"), garbage);
}

// history.db held as another program holds it: a connection inside BEGIN EXCLUSIVE (say,
// an admin's sqlite3 shell left in a transaction), for the scope.
class LockedDatabase {
 public:
  explicit LockedDatabase(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot lock " + path + ": " + sqlite3_errmsg(db_));
  }
  ~LockedDatabase() {
    (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    (void)sqlite3_close(db_);
  }
  LockedDatabase(const LockedDatabase&) = delete;
  LockedDatabase& operator=(const LockedDatabase&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

TEST(CopyJobFaults, AHistoryDatabaseLockedByAnotherProgramIsAWarningAndTheCopyCompletes) {
  CopyFixture f;
  make_small_tree(f.source());
  // A real history with an earlier run of this disk, as the copier writes it.
  JobReport earlier;
  earlier.disk = {f.devnode(), f.uuid(), f.options().label, "ext4"};
  earlier.outcome = Outcome::success;
  earlier.started_at = 1700000000;
  earlier.finished_at = 1700000100;
  earlier.bytes_copied = 100u << 20;
  SqliteHistory(f.state_dir()).record(earlier);

  CopierResult r;
  {
    const LockedDatabase held(f.state_dir() + "/history.db");
    r = f.copy();
  }
  expect_complete_with_history_warning(f, r);
  EXPECT_THAT(r.output, HasSubstr("This run could not be recorded in the run history"));
  // Once the other program lets go, the history is intact: the earlier run, not this one.
  const auto rows = f.history();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "success");
  EXPECT_EQ(rows[0].bytes, 100 << 20);
}

TEST(CopyJobFaults, SigkillOfTheCopierMidCopyLeavesNoRsyncBehind) {
  // Orphans come to this test: it sees how rsync ends, and the kernel does not end a
  // stopped orphaned rsync by itself (see orphan_reaper.h).
  OrphanReaper reaper;
  CopyFixture f({.disk_mib = 200});
  for (int i = 0; i < 4; ++i) make_file(f.source() + "/Nightly/part" + std::to_string(i) + ".vbk", 24u << 20, i + 1);

  auto copier = f.start_copy();
  // The copy rsync is held stopped (a disk that takes no data) and let through in short
  // steps until data reaches the disk: then rsync and its helpers are surely at work.
  RsyncFreezer freezer(copier->pid(), {.continue_on_stop_signal = false});
  ASSERT_TRUE(freezer.wait_frozen(60s)) << copier->output_so_far();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (file_bytes_below(f.mount_point(), disk_own_entries()) == 0 && std::chrono::steady_clock::now() < deadline) {
    freezer.pulse(10ms);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(file_bytes_below(f.mount_point(), disk_own_entries()), 0u) << "nothing reached the disk";
  const pid_t rsync = freezer.group();
  const std::vector<pid_t> group = live_processes_in_group(rsync);
  ASSERT_GE(group.size(), 2u) << "rsync has not started its helpers";

  copier->signal(SIGKILL);
  const auto killed = copier->wait(30s);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->exit_code, 128 + SIGKILL);

  // Still stopped, rsync acts on no signal but SIGKILL: only the parent-death signal the
  // copier asked for can end it now.
  int status = 0;
  ASSERT_TRUE(reaper.wait_for_end(rsync, 30s, &status)) << "rsync outlived the copier";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  // Its helpers were stopped with it. Let them run, as a disk that takes data again: with
  // the sender gone they end.
  freezer.resume();
  for (const pid_t helper : group) {
    if (helper == rsync) continue;
    EXPECT_TRUE(reaper.wait_for_end(helper, 30s)) << "rsync helper " << helper << " lives on";
  }
  EXPECT_TRUE(live_processes_in_group(rsync).empty());
}

}  // namespace
}  // namespace ubc::test
