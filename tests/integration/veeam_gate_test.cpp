// SPDX-License-Identifier: MIT
// One behaviour suite for the VeeamGate port, run against the real lease directory (real
// files, flock and inotify, leases taken and given back by the real store) and against the
// unit tests' fake, so that the fake cannot drift from the real thing.
#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "core/config.h"
#include "core/lease.h"
#include "fakes/fake_veeam_gate.h"
#include "support/blocked.h"
#include "support/loop_disk.h"
#include "sys/directory_lease_store.h"
#include "sys/directory_veeam_gate.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;

// The gate under test and what the Veeam side does around it.
class GateWorld {
 public:
  virtual ~GateWorld() = default;
  virtual VeeamGate& gate() = 0;
  // A veeam-lock call: a live lease of `job` from now on.
  virtual Lease take_lease(const std::string& job) = 0;
  // The lease of a job whose post-job script never ran, expired by now.
  virtual void leave_expired_lease(const std::string& job) = 0;
  // A veeam-unlock call.
  virtual void give_back(const Lease& lease) = 0;
  // The lease directory cannot be used from now on.
  virtual void break_directory() = 0;
  // Whether wait_for_change really sleeps (the fake lets time pass instead).
  virtual bool waits_block() const = 0;
};

class RealWorld final : public GateWorld {
 public:
  RealWorld() : dir_(make_temp_dir("ubc-gate")) {
    config_.veeam_lockfiles = dir_ + "/leases";
    config_.veeam_lease_ttl_hours = 24;
    store_ = std::make_unique<DirectoryLeaseStore>(config_);
    gate_ = std::make_unique<DirectoryVeeamGate>(config_, "1234-ABCD");
  }
  ~RealWorld() override {
    gate_.reset();
    remove_tree(dir_);
  }
  VeeamGate& gate() override { return *gate_; }
  Lease take_lease(const std::string& job) override { return store_->create_lease(job).lease; }
  void leave_expired_lease(const std::string& job) override {
    std::filesystem::create_directories(config_.veeam_lockfiles);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const Lease lease = make_lease(job, "vbr01", 99, now - 25 * 3600, 24);
    write_file(config_.veeam_lockfiles + "/" + lease_file_name(lease, "00000000"), format_lease(lease));
  }
  void give_back(const Lease& lease) override { ASSERT_TRUE(store_->remove_lease(lease)); }
  void break_directory() override { write_file(config_.veeam_lockfiles, "not a directory"); }
  bool waits_block() const override { return true; }

 private:
  std::string dir_;
  Config config_;
  std::unique_ptr<DirectoryLeaseStore> store_;
  std::unique_ptr<DirectoryVeeamGate> gate_;
};

class FakeWorld final : public GateWorld {
 public:
  VeeamGate& gate() override { return gate_; }
  Lease take_lease(const std::string& job) override {
    Lease lease = FakeVeeamGate::lease(job);
    gate_.appear(lease);
    return lease;
  }
  void leave_expired_lease(const std::string& job) override {
    gate_.expired_.push_back(FakeVeeamGate::lease(job, 1'700'000'000));
  }
  void give_back(const Lease& lease) override {
    ASSERT_EQ(std::erase_if(gate_.leases_, [&](const Lease& l) { return l.file == lease.file; }), 1u);
  }
  void break_directory() override { gate_.fail_enter_ = true; }
  bool waits_block() const override { return false; }

 private:
  FakeVeeamGate gate_;
};

using WorldFactory = std::function<std::unique_ptr<GateWorld>()>;

class VeeamGateContract : public ::testing::TestWithParam<std::pair<const char*, WorldFactory>> {
 protected:
  void SetUp() override { world_ = GetParam().second(); }
  VeeamGate& gate() { return world_->gate(); }
  std::unique_ptr<GateWorld> world_;
};

TEST_P(VeeamGateContract, EntersWhenNoLeaseIsThere) {
  const GateResult r = gate().try_enter();
  EXPECT_TRUE(r.entered);
  EXPECT_TRUE(r.live.empty());
  EXPECT_TRUE(r.expired.empty());
  EXPECT_FALSE(gate().lease_appeared());
}

TEST_P(VeeamGateContract, LiveLeasesKeepTheCopierOutAndAreReportedOldestFirst) {
  world_->take_lease("Daily");
  world_->take_lease("Weekly");
  for (int look = 0; look < 2; ++look) {
    const GateResult r = gate().try_enter();
    EXPECT_FALSE(r.entered);
    ASSERT_EQ(r.live.size(), 2u);
    EXPECT_EQ(r.live[0].job, "Daily");
    EXPECT_EQ(r.live[1].job, "Weekly");
    EXPECT_TRUE(r.expired.empty());
  }
}

TEST_P(VeeamGateContract, AnExpiredLeaseIsRemovedAndReportedOnce) {
  world_->leave_expired_lease("Crashed");
  GateResult r = gate().try_enter();
  EXPECT_TRUE(r.entered);
  EXPECT_TRUE(r.live.empty());
  ASSERT_EQ(r.expired.size(), 1u);
  EXPECT_EQ(r.expired[0].job, "Crashed");
  gate().leave();
  r = gate().try_enter();
  EXPECT_TRUE(r.entered);
  EXPECT_TRUE(r.expired.empty());
}

TEST_P(VeeamGateContract, ALeaseArrivingWhileEnteredIsNoticedUntilTheNextTryEnter) {
  ASSERT_TRUE(gate().try_enter().entered);
  EXPECT_FALSE(gate().lease_appeared());
  world_->take_lease("Daily");
  EXPECT_TRUE(gate().lease_appeared());
  EXPECT_TRUE(gate().lease_appeared());  // sticky
  const GateResult r = gate().try_enter();
  EXPECT_FALSE(r.entered);
  ASSERT_EQ(r.live.size(), 1u);
  EXPECT_EQ(r.live[0].job, "Daily");
}

TEST_P(VeeamGateContract, LeavesAndEntersAgainUntilALeaseIsTaken) {
  ASSERT_TRUE(gate().try_enter().entered);
  gate().leave();
  gate().leave();  // harmless
  ASSERT_TRUE(gate().try_enter().entered);
  EXPECT_FALSE(gate().lease_appeared());
  ASSERT_TRUE(gate().try_enter().entered);  // entered already: leaves first, enters again
  gate().leave();
  const Lease lease = world_->take_lease("Daily");
  EXPECT_FALSE(gate().try_enter().entered);
  world_->give_back(lease);
  EXPECT_TRUE(gate().try_enter().entered);
}

TEST_P(VeeamGateContract, WaitForChangeWakesWhenALeaseGoesAway) {
  const Lease lease = world_->take_lease("Daily");
  ASSERT_FALSE(gate().try_enter().entered);
  std::atomic<pid_t> waiter{0};
  std::promise<void> woke;
  std::future<void> woken = woke.get_future();
  // Far longer than the deadline below: only the lease going away ends this wait in time.
  std::thread wait([&] {
    waiter = ::gettid();
    gate().wait_for_change(120s);
    woke.set_value();
  });
  const auto returned = [&] { return woken.wait_for(0s) == std::future_status::ready; };
  while (waiter == 0) std::this_thread::yield();
  const bool blocked = wait_until_blocked_in(::getpid(), waiter, poll_calls(), returned);
  if (world_->waits_block()) {
    EXPECT_TRUE(blocked) << "wait_for_change did not wait for anything";
  }
  world_->give_back(lease);
  const bool woke_in_time = woken.wait_for(60s) == std::future_status::ready;
  wait.join();
  ASSERT_TRUE(woke_in_time) << "wait_for_change slept on after the lease had gone";
  EXPECT_TRUE(gate().try_enter().entered);
}

// The job catches it and says what happened; nothing is entered.
TEST_P(VeeamGateContract, ALeaseDirectoryThatCannotBeUsedThrowsASystemError) {
  world_->break_directory();
  EXPECT_THROW(gate().try_enter(), std::system_error);
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, VeeamGateContract,
    ::testing::Values(std::make_pair("DirectoryVeeamGate", WorldFactory([] { return std::make_unique<RealWorld>(); })),
                      std::make_pair("FakeVeeamGate", WorldFactory([] { return std::make_unique<FakeWorld>(); }))),
    [](const auto& adapter) { return std::string(adapter.param.first); });

}  // namespace
}  // namespace ubc::test
