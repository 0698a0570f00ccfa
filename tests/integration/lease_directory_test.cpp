// SPDX-License-Identifier: MIT
// The Veeam protocol for real: the built veeam-lock / veeam-unlock binaries as separate
// processes, DirectoryVeeamGate gates in this process, real files, flock and inotify.
// Where a test needs veeam-lock to be waiting, it watches it wait (its looks at
// copier.active, the system call it sleeps in), never a clock.
#include <fcntl.h>
#include <sys/file.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/lease.h"
#include "support/blocked.h"
#include "support/loop_disk.h"
#include "support/smtp_server.h"
#include "sys/directory_veeam_gate.h"
#include "sys/posix_process_runner.h"
#include "sys/process_info.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kLockBin = std::string(UBC_BIN_DIR) + "/veeam-lock";
const std::string kUnlockBin = std::string(UBC_BIN_DIR) + "/veeam-unlock";

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  Clock::time_point ended;  // when the tool had exited: for ordering, never for speed
};

// A veeam-lock or veeam-unlock run, read as it goes.
class RunningTool {
 public:
  explicit RunningTool(const std::vector<std::string>& argv) : process_(runner_.start(argv)) {}

  // Whether it has exited by now; does not wait.
  bool exited() {
    if (!exited_) collect(0ms);
    return exited_;
  }
  // Waits for the end: the tools bound every wait of their own.
  ToolRun finish() {
    while (!exited_) collect(1s);
    run_.exit_code = process_->exit_code();
    return run_;
  }

 private:
  void collect(std::chrono::milliseconds timeout) {
    const ProcessOutput chunk = process_->read(timeout);
    run_.out += chunk.out;
    run_.err += chunk.err;
    if (chunk.exited) {
      exited_ = true;
      run_.ended = Clock::now();
    }
  }

  PosixProcessRunner runner_;
  std::unique_ptr<Process> process_;
  ToolRun run_;
  bool exited_ = false;
};

ToolRun run_tool(const std::vector<std::string>& argv) { return RunningTool(argv).finish(); }

// Counts the opens of one file: veeam-lock opens copier.active for each look at the copier
// (the gates keep theirs open), and the coordination file once per check-and-act.
class OpenWatch {
 public:
  explicit OpenWatch(const std::string& path) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    EXPECT_TRUE(fd_.valid());
    EXPECT_GE(::inotify_add_watch(fd_.get(), path.c_str(), IN_OPEN), 0) << path;
  }
  // Forgets the opens so far.
  void reset() { (void)count_queued(); }
  // Waits until `count` more opens have happened (true), or the tool that should make them
  // has exited, or the deadline, a safety net only.
  bool wait_for_opens(int count, RunningTool& tool, std::chrono::seconds deadline = 60s) {
    const auto end = Clock::now() + deadline;
    while (count > 0 && Clock::now() < end && !tool.exited()) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      (void)::poll(&pfd, 1, 100);
      count -= count_queued();
    }
    return count - count_queued() <= 0;
  }

 private:
  int count_queued() {
    int opens = 0;
    alignas(inotify_event) std::array<char, 4096> buf{};
    ssize_t n = 0;
    while ((n = ::read(fd_.get(), buf.data(), buf.size())) > 0)
      for (ssize_t off = 0; off < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buf.data() + off);
        off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if (event->mask & IN_OPEN) ++opens;
      }
    return opens;
  }
  UniqueFd fd_;
};

std::vector<std::string> lease_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (const std::string name = entry.path().filename().string(); is_lease_file_name(name))
      names.push_back(name);
  return names;
}

class LeaseDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLockBin) && std::filesystem::exists(kUnlockBin))
        << "build the binaries first: cmake --build BUILD --target veeam-lock veeam-unlock";
    dir_ = test::make_temp_dir("ubc-lease");
    for (const char* sub : {"src", "mnt", "state", "run"})
      std::filesystem::create_directory(dir_ + "/" + sub);
    config_.veeam_lockfiles = dir_ + "/leases";
    config_.veeam_lockfile_path = config_.veeam_lockfiles + "/coordination.lock";
    config_.veeam_lease_ttl_hours = 24;
    write_config(true, 1, 0);
  }
  void TearDown() override { test::remove_tree(dir_); }

  // The config the binaries read: the same lease directory as config_.
  void write_config(bool yields, int wait_minutes, int smtp_port) {
    const int port = smtp_port > 0 ? smtp_port : test::free_port();
    std::string ini = "[Backup]\n";
    ini += "filesystem-ids-and-notification-mail-addresses = 1234-ABCD\n";
    ini += "backup-source = " + dir_ + "/src\n";
    ini += "backup-destination = " + dir_ + "/mnt\n";
    ini += "state-directory = " + dir_ + "/state\n";
    ini += "runtime-directory = " + dir_ + "/run\n";
    ini += std::string("copy-yields-to-veeam = ") + (yields ? "yes" : "no") + "\n";
    ini += "veeam-lease-ttl-hours = 24\n";
    ini += "[VEEAM]\n";
    ini += "veeam-lockfiles = " + config_.veeam_lockfiles + "\n";
    ini += "wait-for-backup-minutes = " + std::to_string(wait_minutes) + "\n";
    ini += "[Mail]\n";
    ini += "to-mail-addresses-sysop = ops@example.com\n";
    ini += "from-mail-address = copier@example.com\n";
    ini += "server = 127.0.0.1\n";
    ini += "port = " + std::to_string(port) + "\n";
    ini += "security = none\n";
    test::write_file(config_path(), ini);
    ::chmod(config_path().c_str(), 0600);
  }
  std::string config_path() const { return dir_ + "/config.ini"; }
  std::vector<std::string> lock_argv(const std::string& job) const {
    return {kLockBin, "--config", config_path(), "--job", job};
  }
  ToolRun lock(const std::string& job) { return run_tool(lock_argv(job)); }
  ToolRun unlock(const std::string& job) {
    return run_tool({kUnlockBin, "--config", config_path(), "--job", job});
  }
  std::string leases() const { return config_.veeam_lockfiles; }
  std::string marker() const { return leases() + "/" + std::string(kCopierMarkerName); }

  std::string dir_;
  Config config_;
};

TEST_F(LeaseDirectoryTest, ALeaseKeepsTheCopierOutUntilItIsGivenBack) {
  const ToolRun taken = lock("Daily backup");
  ASSERT_EQ(taken.exit_code, 0) << taken.err;
  EXPECT_NE(taken.out.find("veeam-lock: lease taken for job 'Daily backup'"), std::string::npos) << taken.out;

  DirectoryVeeamGate gate(config_, "1234-ABCD");
  GateResult r = gate.try_enter();
  EXPECT_FALSE(r.entered);
  ASSERT_EQ(r.live.size(), 1u);
  EXPECT_EQ(r.live[0].job, "Daily backup");
  EXPECT_EQ(r.live[0].host, host_name());
  EXPECT_GT(r.live[0].expires_at, r.live[0].created_at + 24 * 3600 - 5);
  EXPECT_TRUE(r.expired.empty());

  const ToolRun given = unlock("Daily backup");
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_NE(given.out.find("no Veeam job holds the repository now"), std::string::npos) << given.out;
  EXPECT_TRUE(gate.try_enter().entered);
}

TEST_F(LeaseDirectoryTest, OverlappingRunsOfAJobEachHoldALease) {
  ASSERT_EQ(lock("Daily").exit_code, 0);
  ASSERT_EQ(lock("Daily").exit_code, 0);
  ASSERT_EQ(lock("Weekly").exit_code, 0);
  EXPECT_EQ(lease_files(leases()).size(), 3u);
  DirectoryVeeamGate gate(config_);
  ASSERT_EQ(unlock("Daily").exit_code, 0);
  EXPECT_EQ(gate.try_enter().live.size(), 2u);
  ASSERT_EQ(unlock("Weekly").exit_code, 0);
  EXPECT_EQ(gate.try_enter().live.size(), 1u);
  ASSERT_EQ(unlock("Daily").exit_code, 0);
  EXPECT_TRUE(gate.try_enter().entered);
  EXPECT_TRUE(lease_files(leases()).empty());
}

TEST_F(LeaseDirectoryTest, ExpiredLeasesAreRemovedAndReported) {
  std::filesystem::create_directory(leases());
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  Lease old = make_lease("Nightly", "vbr01", 99, now - 30 * 3600, 24);
  test::write_file(leases() + "/old.lease", format_lease(old));

  DirectoryVeeamGate gate(config_);
  const GateResult r = gate.try_enter();
  EXPECT_TRUE(r.entered);
  ASSERT_EQ(r.expired.size(), 1u);
  EXPECT_EQ(r.expired[0].job, "Nightly");
  EXPECT_EQ(r.expired[0].file, "old.lease");
  EXPECT_FALSE(std::filesystem::exists(leases() + "/old.lease"));

  // veeam-lock reports the ones it cleans up as well.
  gate.leave();
  test::write_file(leases() + "/old.lease", format_lease(old));
  const ToolRun taken = lock("Daily");
  EXPECT_EQ(taken.exit_code, 0);
  EXPECT_NE(taken.err.find("warning: removed an expired lease, job 'Nightly' from vbr01 (pid 99)"), std::string::npos)
      << taken.err;
  EXPECT_EQ(lease_files(leases()).size(), 1u);
}

TEST_F(LeaseDirectoryTest, AnUnreadableLeaseCountsAsLiveUntilATtlAfterItsLastChange) {
  std::filesystem::create_directory(leases());
  const std::string junk = leases() + "/junk.lease";
  test::write_file(junk, "this is not a lease\n");
  ASSERT_EQ(::symlink("/etc/shadow", (leases() + "/link.lease").c_str()), 0);
  DirectoryVeeamGate gate(config_);
  GateResult r = gate.try_enter();
  EXPECT_FALSE(r.entered);
  ASSERT_EQ(r.live.size(), 2u);
  for (const auto& l : r.live) EXPECT_NE(l.job.find("unreadable lease file"), std::string::npos) << l.job;

  // 25 hours old: expired, removed, reported.
  const timespec old[2] = {{std::time(nullptr) - 25 * 3600, 0}, {std::time(nullptr) - 25 * 3600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, junk.c_str(), old, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (leases() + "/link.lease").c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
  r = gate.try_enter();
  EXPECT_TRUE(r.entered);
  EXPECT_EQ(r.expired.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(junk));
  EXPECT_TRUE(std::filesystem::exists("/etc/shadow"));  // the link went, not its target
}

TEST_F(LeaseDirectoryTest, UnlockWithoutALeaseWarnsAndSucceeds) {
  const ToolRun run = unlock("Daily");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("veeam-unlock: warning: job 'Daily' holds no lease"), std::string::npos) << run.err;
}

TEST_F(LeaseDirectoryTest, LeaseAppearsWithinASecondAndVeeamLockReturnsOnceTheCopierPauses) {
  DirectoryVeeamGate gate(config_, "1234-ABCD");
  ASSERT_TRUE(gate.try_enter().entered);
  EXPECT_FALSE(gate.lease_appeared());

  OpenWatch looks(marker());
  RunningTool veeam(lock_argv("Daily"));
  const auto start = Clock::now();
  bool noticed = false;
  while (!noticed && Clock::now() - start < 5s) {
    gate.wait_for_change(100ms);
    noticed = gate.lease_appeared();
  }
  EXPECT_TRUE(noticed) << "the gate never noticed the lease within 5 s";
  EXPECT_TRUE(gate.lease_appeared());  // sticky until the next try_enter

  // The copier takes its time to stop rsync; veeam-lock waits for it: it looks when it has
  // made its lease, looks again and, finding the copier still in, a third time.
  ASSERT_TRUE(looks.wait_for_opens(3, veeam)) << "veeam-lock does not look for the copier";
  EXPECT_FALSE(veeam.exited()) << "veeam-lock returned before the copier had paused";
  gate.leave();
  const auto left = Clock::now();
  const ToolRun run = veeam.finish();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("the copy to disk 1234-ABCD (pid " + std::to_string(::getpid()) +
                         ") is reading the repository; asking it to pause"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("copy paused after"), std::string::npos) << run.out;
  EXPECT_GE(run.ended, left) << "veeam-lock returned before the copier had paused";

  const GateResult r = gate.try_enter();
  EXPECT_FALSE(r.entered);
  EXPECT_FALSE(gate.lease_appeared());
}

TEST_F(LeaseDirectoryTest, WithoutYieldingVeeamLockWaitsForTheCopyToFinish) {
  write_config(false, 1, 0);
  DirectoryVeeamGate gate(config_, "1234-ABCD");
  ASSERT_TRUE(gate.try_enter().entered);
  OpenWatch looks(marker());
  RunningTool veeam(lock_argv("Daily"));
  ASSERT_TRUE(looks.wait_for_opens(3, veeam)) << "veeam-lock does not look for the copier";
  EXPECT_EQ(lease_files(leases()).size(), 1u);
  EXPECT_FALSE(veeam.exited()) << "veeam-lock returned while the copy was still running";
  gate.leave();
  const auto left = Clock::now();
  const ToolRun run = veeam.finish();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("copy-yields-to-veeam = no: waiting up to 1 min"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the copy finished after"), std::string::npos) << run.out;
  EXPECT_GE(run.ended, left) << "veeam-lock returned while the copy was still running";
  EXPECT_EQ(lease_files(leases()).size(), 1u);
}

TEST_F(LeaseDirectoryTest, EveryEnteredCopierIsWaitedFor) {
  DirectoryVeeamGate first(config_, "AAAA-AAAA");
  DirectoryVeeamGate second(config_, "BBBB-BBBB");
  ASSERT_TRUE(first.try_enter().entered);
  ASSERT_TRUE(second.try_enter().entered);
  OpenWatch looks(marker());
  RunningTool veeam(lock_argv("Daily"));
  ASSERT_TRUE(looks.wait_for_opens(3, veeam)) << "veeam-lock does not look for the copiers";
  first.leave();
  // Two looks after the first copier left: the first of them found the second still in.
  looks.reset();
  ASSERT_TRUE(looks.wait_for_opens(2, veeam)) << "veeam-lock stopped looking for the second copier";
  EXPECT_FALSE(veeam.exited()) << "veeam-lock returned while the second copier still read";
  second.leave();
  const auto both_left = Clock::now();
  const ToolRun run = veeam.finish();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_GE(run.ended, both_left) << "veeam-lock returned while the second copier still read";
}

TEST_F(LeaseDirectoryTest, CheckAndCreateWaitsForTheCoordinationLock) {
  std::filesystem::create_directory(leases());
  UniqueFd held(::open(config_.veeam_lockfile_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(held.valid());
  ASSERT_EQ(::flock(held.get(), LOCK_EX), 0);
  OpenWatch opens(config_.veeam_lockfile_path);
  RunningTool veeam(lock_argv("Daily"));
  // Having opened the coordination file, veeam-lock sleeps between tries for its lock.
  ASSERT_TRUE(opens.wait_for_opens(1, veeam)) << "veeam-lock never opened the coordination file";
  const pid_t pid = test::child_running(kLockBin);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(test::wait_until_blocked_in(pid, pid, test::sleep_calls(), [&] { return veeam.exited(); }))
      << "veeam-lock did not wait for the coordination lock";
  EXPECT_TRUE(lease_files(leases()).empty()) << "a lease was written without the coordination lock";
  held.reset();
  const ToolRun run = veeam.finish();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(lease_files(leases()).size(), 1u);
}

TEST_F(LeaseDirectoryTest, ListShowsLeasesAndTheCopier) {
  ASSERT_EQ(lock("Daily").exit_code, 0);
  DirectoryVeeamGate gate(config_, "1234-ABCD");
  // A copier that entered before the lease (the lease normally makes it leave).
  ASSERT_EQ(unlock("Daily").exit_code, 0);
  ASSERT_TRUE(gate.try_enter().entered);
  const ToolRun run = run_tool({kLockBin, "--config", config_path(), "--list"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("No Veeam leases in '" + leases() + "'."), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Copier: the copy to disk 1234-ABCD (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << run.out;
}

TEST_F(LeaseDirectoryTest, StaleTemporaryFilesOfADeadWriterAreRemoved) {
  std::filesystem::create_directory(leases());
  test::write_file(leases() + "/.1-Daily-1-0.lease.tmp", "job=Da");
  DirectoryVeeamGate gate(config_);
  EXPECT_TRUE(gate.try_enter().entered);
  EXPECT_FALSE(std::filesystem::exists(leases() + "/.1-Daily-1-0.lease.tmp"));
}

TEST_F(LeaseDirectoryTest, FailingToCreateTheLeaseFailsAndMails) {
  test::SmtpServer smtp;
  test::write_file(dir_ + "/not-a-dir", "");
  config_.veeam_lockfiles = dir_ + "/not-a-dir/leases";
  write_config(true, 1, smtp.port());
  const ToolRun run = lock("Daily");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("veeam-lock: ERROR: could not create the lease of Veeam job 'Daily'"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("Not a directory"), std::string::npos) << run.err;
  ASSERT_TRUE(smtp.wait_for_messages(1, 10s)) << smtp.log();
  const auto mail = test::parse_mail(smtp.message_files().at(0));
  EXPECT_NE(test::field(mail, "subject").find("veeam-lock: no lease for Veeam job 'Daily'"), std::string::npos)
      << test::field(mail, "subject");
}

// 50 real veeam-lock runs (5 jobs, overlapping) against 4 copier threads that enter
// whenever they can and yield like the job does. Each side counts itself in only after
// its own step succeeded and out before giving back, so any moment both counts are
// non-zero is a real overlap.
TEST_F(LeaseDirectoryTest, VeeamAndCopiersNeverHoldTheRepositoryAtOnce) {
  constexpr int kVeeamRuns = 50;
  constexpr int kCopiers = 4;
  std::atomic<int> veeam_in{0};
  std::atomic<int> copiers_in{0};
  std::atomic<int> violations{0};
  std::atomic<int> entries{0};
  std::atomic<int> pauses{0};
  std::atomic<int> failed_runs{0};
  std::atomic<bool> done{false};
  std::string first_failure;
  std::mutex failure_mutex;

  std::vector<std::thread> copiers;
  for (int i = 0; i < kCopiers; ++i) {
    copiers.emplace_back([&, i] {
      DirectoryVeeamGate gate(config_, "COPIER-" + std::to_string(i));
      std::mt19937 rng(static_cast<unsigned>(i) + 1);
      while (!done) {
        if (!gate.try_enter().entered) {
          gate.wait_for_change(std::chrono::milliseconds(rng() % 20));
          continue;
        }
        ++entries;
        ++copiers_in;
        // Reads on until a lease arrives, as a copy would: most leases find a copier in.
        const auto until = Clock::now() + std::chrono::milliseconds(100 + rng() % 200);
        bool yielding = false;
        while (!yielding && Clock::now() < until) {
          if (veeam_in.load() != 0) ++violations;
          yielding = gate.lease_appeared();
          std::this_thread::sleep_for(1ms);
        }
        if (yielding) {
          // Stopping rsync takes a while, and it reads on meanwhile: a veeam-lock that
          // returned without waiting for leave() is caught here.
          ++pauses;
          const auto stopped = Clock::now() + std::chrono::milliseconds(20 + rng() % 60);
          while (Clock::now() < stopped) {
            if (veeam_in.load() != 0) ++violations;
            std::this_thread::sleep_for(1ms);
          }
        }
        --copiers_in;
        gate.leave();
      }
    });
  }

  std::vector<std::thread> veeam;
  for (int i = 0; i < kVeeamRuns; ++i) {
    veeam.emplace_back([&, i] {
      std::mt19937 rng(static_cast<unsigned>(i) + 1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5000));
      const std::string job = "job " + std::to_string(i % 5);
      const ToolRun taken = lock(job);
      if (taken.exit_code != 0) {
        ++failed_runs;
        const std::lock_guard guard(failure_mutex);
        first_failure = taken.err;
        return;
      }
      ++veeam_in;
      if (copiers_in.load() != 0) ++violations;
      const auto until = Clock::now() + std::chrono::milliseconds(rng() % 40);
      while (Clock::now() < until) {
        if (copiers_in.load() != 0) ++violations;
        std::this_thread::sleep_for(1ms);
      }
      --veeam_in;
      if (unlock(job).exit_code != 0) ++failed_runs;
    });
  }
  for (auto& t : veeam) t.join();
  done = true;
  for (auto& t : copiers) t.join();

  RecordProperty("copier_entries", entries.load());
  RecordProperty("copier_pauses", pauses.load());
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(failed_runs.load(), 0) << first_failure;
  EXPECT_GT(entries.load(), 10) << "the copiers hardly ran: no race was tested";
  EXPECT_GE(pauses.load(), 10) << "leases rarely arrived while a copier was in: no race was tested";
  EXPECT_TRUE(lease_files(leases()).empty());
}

}  // namespace
}  // namespace ubc
