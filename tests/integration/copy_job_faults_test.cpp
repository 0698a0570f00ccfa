// SPDX-License-Identifier: MIT
// The built copier when what surrounds it breaks, for real on a loop-device disk: the
// copier itself SIGKILLed mid-copy (its rsync must not live on).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "support/copy_fixture.h"
#include "support/orphan_reaper.h"

namespace ubc::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

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
