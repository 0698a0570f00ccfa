// SPDX-License-Identifier: MIT
// veeam-lock waiting for copiers and for the coordination lock, watched as it waits
// (support/lease_fixture.h), and a race of real veeam-lock runs against copier threads.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/lease.h"
#include "support/blocked.h"
#include "support/lease_fixture.h"
#include "sys/directory_veeam_gate.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::LeaseDirectoryTest;
using test::lease_files;
using test::OpenWatch;
using test::RunningTool;
using test::ToolRun;
using test::kLockBin;

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
