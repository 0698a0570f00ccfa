// SPDX-License-Identifier: MIT
#include "support/lease_fixture.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "core/lease.h"
#include "support/loop_disk.h"
#include "support/smtp_server.h"

namespace ubc::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kLockBin = std::string(UBC_BIN_DIR) + "/veeam-lock";
const std::string kUnlockBin = std::string(UBC_BIN_DIR) + "/veeam-unlock";

RunningTool::RunningTool(const std::vector<std::string>& argv) : process_(runner_.start(argv)) {}

bool RunningTool::exited() {
  if (!exited_) collect(0ms);
  return exited_;
}

ToolRun RunningTool::finish() {
  while (!exited_) collect(1s);
  run_.exit_code = process_->exit_code();
  return run_;
}

void RunningTool::collect(std::chrono::milliseconds timeout) {
  const ProcessOutput chunk = process_->read(timeout);
  run_.out += chunk.out;
  run_.err += chunk.err;
  if (chunk.exited) {
    exited_ = true;
    run_.ended = Clock::now();
  }
}

ToolRun run_tool(const std::vector<std::string>& argv) { return RunningTool(argv).finish(); }

OpenWatch::OpenWatch(const std::string& path) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  EXPECT_TRUE(fd_.valid());
  EXPECT_GE(::inotify_add_watch(fd_.get(), path.c_str(), IN_OPEN), 0) << path;
}

bool OpenWatch::wait_for_opens(int count, RunningTool& tool, std::chrono::seconds deadline) {
  const auto end = Clock::now() + deadline;
  while (count > 0 && Clock::now() < end && !tool.exited()) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    (void)::poll(&pfd, 1, 100);
    count -= count_queued();
  }
  return count - count_queued() <= 0;
}

int OpenWatch::count_queued() {
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

std::vector<std::string> lease_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (const std::string name = entry.path().filename().string(); is_lease_file_name(name))
      names.push_back(name);
  return names;
}

void LeaseDirectoryTest::SetUp() {
  ASSERT_TRUE(std::filesystem::exists(kLockBin) && std::filesystem::exists(kUnlockBin))
      << "build the binaries first: cmake --build BUILD --target veeam-lock veeam-unlock";
  dir_ = make_temp_dir("ubc-lease");
  for (const char* sub : {"src", "mnt", "state", "run"})
    std::filesystem::create_directory(dir_ + "/" + sub);
  config_.veeam_lockfiles = dir_ + "/leases";
  config_.veeam_lockfile_path = config_.veeam_lockfiles + "/coordination.lock";
  config_.veeam_lease_ttl_hours = 24;
  write_config(true, 1, 0);
}

void LeaseDirectoryTest::TearDown() { remove_tree(dir_); }

void LeaseDirectoryTest::write_config(bool yields, int wait_minutes, int smtp_port) {
  const int port = smtp_port > 0 ? smtp_port : free_port();
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
  write_file(config_path(), ini);
  ::chmod(config_path().c_str(), 0600);
}

std::string LeaseDirectoryTest::marker() const { return leases() + "/" + std::string(kCopierMarkerName); }

}  // namespace ubc::test
