// SPDX-License-Identifier: MIT
// The lease directory for real (support/lease_fixture.h): leases taken and given back by
// the built veeam-lock / veeam-unlock, gates in this process.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "core/lease.h"
#include "support/lease_fixture.h"
#include "support/loop_disk.h"
#include "support/smtp_server.h"
#include "sys/directory_veeam_gate.h"
#include "sys/process_info.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;
using test::LeaseDirectoryTest;
using test::lease_files;
using test::ToolRun;
using test::run_tool;
using test::kLockBin;

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

}  // namespace
}  // namespace ubc
