// SPDX-License-Identifier: MIT
// The Veeam protocol for real: the built veeam-lock / veeam-unlock binaries as separate
// processes against a lease directory that gates in the test process share. Where a test
// needs veeam-lock to be waiting, it watches it wait (its looks at copier.active, the
// system call it sleeps in), never a clock.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "ports/process_runner.h"
#include "sys/posix_process_runner.h"
#include "sys/unique_fd.h"

namespace ubc::test {

extern const std::string kLockBin;
extern const std::string kUnlockBin;

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::steady_clock::time_point ended;  // when it had exited: for ordering, never for speed
};

// A veeam-lock or veeam-unlock run, read as it goes.
class RunningTool {
 public:
  explicit RunningTool(const std::vector<std::string>& argv);
  // Whether it has exited by now; does not wait.
  bool exited();
  // Waits for the end: the tools bound every wait of their own.
  ToolRun finish();

 private:
  void collect(std::chrono::milliseconds timeout);

  PosixProcessRunner runner_;
  std::unique_ptr<Process> process_;
  ToolRun run_;
  bool exited_ = false;
};

ToolRun run_tool(const std::vector<std::string>& argv);

// Counts the opens of one file: veeam-lock opens copier.active for each look at the copier
// (the gates keep theirs open), and the coordination file once per check-and-act.
class OpenWatch {
 public:
  explicit OpenWatch(const std::string& path);
  // Forgets the opens so far.
  void reset() { (void)count_queued(); }
  // Waits until `count` more opens have happened (true), or the tool that should make them
  // has exited, or the deadline, a safety net only.
  bool wait_for_opens(int count, RunningTool& tool, std::chrono::seconds deadline = std::chrono::seconds(60));

 private:
  int count_queued();
  UniqueFd fd_;
};

// The lease files in dir.
std::vector<std::string> lease_files(const std::string& dir);

class LeaseDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The config the binaries read: the same lease directory as config_.
  void write_config(bool yields, int wait_minutes, int smtp_port);
  std::string config_path() const { return dir_ + "/config.ini"; }
  std::vector<std::string> lock_argv(const std::string& job) const {
    return {kLockBin, "--config", config_path(), "--job", job};
  }
  ToolRun lock(const std::string& job) { return run_tool(lock_argv(job)); }
  ToolRun unlock(const std::string& job) { return run_tool({kUnlockBin, "--config", config_path(), "--job", job}); }
  std::string leases() const { return config_.veeam_lockfiles; }
  std::string marker() const;

  std::string dir_;
  Config config_;
};

}  // namespace ubc::test
